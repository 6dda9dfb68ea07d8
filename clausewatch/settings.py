"""Every setting of clausewatch, declared once with its default and help.

Precedence: defaults < config file (``$CLAUSEWATCH_HOME/config.yaml`` or
``--config``) < environment (``CLAUSEWATCH_<NAME>``) < command-line flags.
The environment is read here only, by ``load_settings(environ=...)``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import math
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clausewatch.errors import not_utf8

if TYPE_CHECKING:  # imported where a config file is read: without one, --help and changes never load PyYAML
    import yaml

ENV_PREFIX = "CLAUSEWATCH_"
# The CLAUSEWATCH_ variables that are not settings: the tests', benchmarks' and CI's own, which every command a
# test or benchmark runs inherits. Any other CLAUSEWATCH_ variable is a setting mistyped, and refused: ignored,
# it would leave its setting silently at the default (a crawl delay of 2 s where 5 were meant).
NOT_SETTINGS = frozenset({
    "CLAUSEWATCH_TEST_PG",  # tests/conftest.py, benchmarks/distributed.py: the PostgreSQL server of the tests
    "CLAUSEWATCH_SKIP_PG",  # tests/conftest.py: =1 skips the PostgreSQL tests
    "CLAUSEWATCH_TEST_REDIS_URL",  # tests/crawler/test_distributed.py, benchmarks/distributed.py: the Redis server
    "CLAUSEWATCH_SHARED",  # tests and benchmarks: the ../shared folder of datasets
    "CLAUSEWATCH_PYWB_BIN",  # tests/clausewatch/test_export_wacz.py: the pywb that replays exported archives
    "CLAUSEWATCH_TEST_WORKER_GATED",  # tests/clausewatch/scheduling_support.py: a worker that waits to start
})


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    # What turns a given value into the setting's (its ``__name__`` says what it expects in an error).
    type: Callable[[Any], Any] = str


def networks(value: Any) -> tuple[str, ...]:
    """IP networks in CIDR form, comma-separated (environment) or a YAML list."""
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return tuple(str(ipaddress.ip_network(str(item).strip(), strict=False)) for item in items if str(item).strip())


networks.yaml_kinds = (list,)  # type: ignore[attr-defined]


def expects(what: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Name a reader by what it expects: a refused value's error says "<SETTING> expects <what>, got …"."""

    def named(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
        read.__name__ = what
        return read

    return named


def bounded(kind: type, low: float, high: float = math.inf, *, what: str) -> Callable[[Any], Any]:
    """A converter to ``kind`` that refuses a value below ``low``, above ``high``, infinite or NaN: a crawl
    allowed no request at a time, or told to wait for ever between two, would hang instead of failing.
    ``what`` is how an error message describes a good value."""

    @expects(what)
    def convert(value: Any) -> Any:
        # YAML reads `2.5` and `yes` as a float and a bool, which int() would silently make 2 and 1.
        # A bool is an int to isinstance: it is refused here, with its own message.
        if isinstance(value, bool) or (kind is int and isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"{value!r} is not {what}")
        number = kind(value)
        if not low <= number <= high or math.isinf(number):
            raise ValueError(f"{number} is out of range")
        return number

    convert.yaml_kinds = (int, float)  # type: ignore[attr-defined]
    return convert


@expects("an absolute http(s) or file URL")
def site_url(value: Any) -> str:
    """An absolute URL the site is published at: every link of an email is made from it."""
    from urllib.parse import urlsplit  # here, not at start-up: only a value that is given is checked

    text = str(value).strip()
    parts = urlsplit(text)
    if any(c.isspace() for c in text) or not (
            parts.scheme in ("http", "https") and parts.netloc or parts.scheme == "file" and parts.path):
        raise ValueError(f"not an absolute URL: {text!r}")
    return text


@expects('one email address (user@host, or Name <user@host>; quote a name with a comma: "Legal, Team" <…>)')
def mail_address(value: Any) -> str:
    """A From address, bare or with a name ("clausewatch <alerts@example.com>")."""
    from email.utils import getaddresses

    text = str(value).strip()
    found = getaddresses([text])  # a second address, or words after the first, are a second entry
    address = found[0][1] if len(found) == 1 else ""
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or any(c.isspace() for c in address):
        raise ValueError(f"not one email address: {text!r}")
    return text


@expects("an identifying User-Agent on one line (the crawler's name and a contact URL)")
def user_agent(value: Any) -> str:
    """What every request says it is: empty, a site sees requests from no one (and Scrapy sends no header)."""
    text = str(value).strip()
    if not text or any(c in text for c in "\r\n"):
        raise ValueError(f"not a User-Agent: {text!r}")
    return text


@expects("a redis://, rediss:// or unix:// URL, or nothing")
def redis_url(value: Any) -> str:
    """A Redis URL, or empty for a crawl queue of the process's own."""
    text = str(value).strip()
    # redis-py reads the scheme as written: "REDIS://" is refused there, so it is here.
    if text and text.partition("://")[0] not in ("redis", "rediss", "unix"):
        raise ValueError("not a Redis URL")
    return text


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# The other names the logging module takes for a level.
_LOG_LEVEL_ALIASES = {"WARN": "WARNING", "FATAL": "CRITICAL", "NOTSET": "DEBUG"}


@expects("one of " + ", ".join(LOG_LEVELS))
def log_level(value: Any) -> str:
    """A logging level by name, in any case (``debug`` is ``DEBUG``; ``warn`` is ``WARNING``)."""
    name = str(value).strip().upper()
    name = _LOG_LEVEL_ALIASES.get(name, name)
    if name not in LOG_LEVELS:
        raise ValueError(f"unknown level {value!r}")
    return name


POSITIVE = bounded(int, 1, what="a whole number, 1 or more")
COUNT = bounded(int, 0, what="a whole number, 0 or more")
# The crawl's own knobs have a ceiling as well: a delay of 1e300 seconds never ends (nor does a stop wait for it),
# and a concurrency or a number of workers in the thousands is a typo that would fork or flood, not a choice.
CRAWL_DELAY_SECONDS = bounded(float, 0, 3600, what="a number of seconds from 0 to 3600")
PER_DOMAIN = bounded(int, 1, 100, what="a whole number from 1 to 100")
WORKERS = bounded(int, 0, 64, what="a whole number from 0 to 64")
# Retried with a back-off of up to two minutes each: 20 is most of an hour on one page.
RETRIES = bounded(int, 0, 20, what="a whole number from 0 to 20")
# A lock is renewed while its job runs, so a long one is never needed; a day is a typo's ceiling (a lease beyond
# year 9999 was a traceback in `run` and killed the renewing thread).
LEASE_SECONDS = bounded(int, 1, 86400, what="a number of seconds from 1 to 86400")
AUTO = "auto"
# ANALYSIS_WORKERS=auto starts a worker for a crawl whose first batch holds this many documents never fetched
# (clausewatch.crawling.AdaptiveAnalyzer; benchmarks/first_crawl.py, decision 0014).
AUTO_WORKER_FROM = 20


@expects("a whole number from 0 to 64, or auto")
def workers(value: Any) -> int | str:
    """``auto`` (chosen per crawl) or a number of worker processes."""
    if isinstance(value, str) and value.strip().lower() == AUTO:
        return AUTO
    return WORKERS(value)


workers.yaml_kinds = (int, float)  # type: ignore[attr-defined]


SETTINGS: tuple[Setting, ...] = (
    Setting("HOME", ".clausewatch", "Folder holding the database, blobs and outputs."),
    Setting("DATABASE_URL", "", "SQLAlchemy URL of the store; empty means SQLite inside HOME."),
    Setting("BLOBS", "", "Folder of the content-addressed blob store; empty means HOME/objects."),
    Setting("CATALOG", "catalog", "Folder of platform declarations (YAML or Open Terms Archive JSON)."),
    Setting("SCHEDULES", "schedules.yaml", "The schedules file."),
    Setting("SUBSCRIBERS", "", "YAML file of digest and alert subscribers; empty means HOME/subscribers.yaml."),
    Setting("SITE_DIR", "", "Where `site` writes the static site; empty means HOME/site."),
    Setting("BASE_URL", "http://localhost:8000/", "Absolute URL the site is published at (links in emails).",
            site_url),
    Setting("USER_AGENT", "clausewatch/0.1 (+https://github.com/clausewatch/clausewatch; terms monitoring)",
            "Identifying User-Agent with a contact URL.", user_agent),
    Setting("CRAWL_DELAY", 2.0, "Seconds between requests to one domain, at least (a longer robots.txt Crawl-delay "
                                "wins).", CRAWL_DELAY_SECONDS),
    Setting("CRAWL_CONCURRENCY", 1, "Concurrent requests per domain.", PER_DOMAIN),
    Setting("CRAWL_TIMEOUT", 30.0, "Seconds before a request is abandoned.",
            bounded(float, 0.001, what="a number of seconds, 0.001 or more")),
    Setting("CRAWL_RETRIES", 2, "Retries on 429, 5xx and timeouts (0 to 20).", RETRIES),
    Setting("CRAWL_MAX_BYTES", 20 * 1024 * 1024, "Largest body accepted, in bytes.", POSITIVE),
    Setting("CRAWL_SHRINK_RATIO", 0.5,
            "A new text shorter than this share of the previous version is a suspicious shrink.",
            bounded(float, 0, 1, what="a share from 0 to 1")),
    Setting("CRAWL_REDIS_URL", "", "Redis URL of a shared crawl queue (scrapy-redis); empty: local queue.",
            redis_url),
    Setting("CRAWL_QUEUE", "", "Name of the store's shared crawl queue (Redis keys clausewatch:<name>:*); "
            "empty: the database name."),
    Setting("CRAWL_ALLOWED_NETWORKS", (), "Private, loopback or other non-public networks (CIDR, comma-separated) "
            "a redirect or page may send the crawler to; others are refused unless a catalog URL is on them.",
            networks),
    Setting("BROWSER_PATH", "/usr/bin/chromium", "Chromium used for documents declared `browser`."),
    Setting("ANALYSIS_WORKERS", AUTO, "Processes analysing new versions during a crawl. auto: one worker process "
            f"when the crawl's first 500 documents include {AUTO_WORKER_FROM} or more never fetched and the "
            "process may run on two cores or more, else in the crawling process; 0: always in the crawling "
            "process (best when few texts are new, as in a daily run); N: N worker processes, started at the first "
            "new text and kept (decision 0014).",
            workers),
    Setting("FAILURE_ALERT_AFTER", 3, "Consecutive failed fetches of a document before an alert.", POSITIVE),
    Setting("SMTP_HOST", "localhost", "SMTP server for digests and alerts."),
    Setting("SMTP_PORT", 587, "SMTP port.", bounded(int, 1, 65535, what="a port from 1 to 65535")),
    Setting("SMTP_STARTTLS", True, "Upgrade the SMTP connection with STARTTLS.", bool),
    Setting("SMTP_USER", "", "SMTP user name (from the environment)."),
    Setting("SMTP_PASSWORD", "", "SMTP password: in the environment, or a config file only its owner can read; never shown."),
    Setting("MAIL_FROM", "clausewatch <alerts@localhost>", "From address of digests and alerts.", mail_address),
    Setting("LOG_LEVEL", "INFO", "Logging level: " + ", ".join(LOG_LEVELS) + ".", log_level),
    Setting("LOG_KEY", "", "Ed25519 private key that signs the capture log after every crawl (made by `init`, "
            "mode 0600); empty means HOME/keys/capture-log.key. Its public key is PATH.pub."),
    Setting("JOB_LEASE_SECONDS", 300,
            "Seconds a job's run lock lasts unless renewed (1 to 86400); a holder that died frees it after this.",
            LEASE_SECONDS),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class SettingsError(ValueError):
    """A setting has a value of the wrong form; the message names it and its source."""


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    blobs: Path
    catalog: Path
    schedules: Path
    subscribers: Path
    site_dir: Path
    base_url: str
    user_agent: str
    crawl_delay: float
    crawl_concurrency: int
    crawl_timeout: float
    crawl_retries: int
    crawl_max_bytes: int
    crawl_shrink_ratio: float
    crawl_redis_url: str
    crawl_queue: str
    crawl_allowed_networks: tuple[str, ...]
    browser_path: str
    analysis_workers: int | str
    failure_alert_after: int
    smtp_host: str
    smtp_port: int
    smtp_starttls: bool
    smtp_user: str
    smtp_password: str = dataclasses.field(repr=False)  # never in a log line or traceback
    mail_from: str
    log_level: str
    job_lease_seconds: int
    log_key: Path
    # Where each value came from, by setting name ("default", "environment CLAUSEWATCH_X", "PATH:LINE",
    # "option --x"): a file the user named must exist where a default one may be missing.
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes``; a value changed here is no longer its default (its source: "replaced")."""
        sources = {**self.sources, **{name.upper(): "replaced" for name in changes}}
        return dataclasses.replace(self, **changes, sources=sources)

    def is_default(self, name: str) -> bool:
        """Whether setting ``name`` (``SCHEDULES``) was left at its default: no config file, environment
        variable or flag gave it."""
        return self.sources.get(name, "default") == "default"


def _coerce(setting: Setting, value: Any, source: str) -> Any:
    if isinstance(value, str) and setting.name not in PATH_SETTINGS and not _is_utf8(value):
        # A byte that is not UTF-8 in the environment (kept as a lone surrogate): sent in a header or written in a
        # page, it failed at use, after a crawl had recorded every page as failed.
        shown = "(not shown: a secret)" if setting.name in SECRET_SETTINGS else ascii(value)
        raise SettingsError(f"{source}: {setting.name} is not valid UTF-8: {shown}")
    if setting.type is bool and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{source}: {setting.name} expects true or false, got {value!r}")
    try:
        return setting.type(value)
    except (TypeError, ValueError):
        # A URL that is not one may still hold a password where without_password would not look for it.
        got = "something else (not shown: it may hold a password)" if setting.name in URL_SETTINGS else repr(value)
        raise SettingsError(f"{source}: {setting.name} expects {setting.type.__name__}, got {got}") from None


# Settings holding a path: a file name on Linux may be any bytes, kept as they are.
PATH_SETTINGS = frozenset({"HOME", "BLOBS", "CATALOG", "SCHEDULES", "SUBSCRIBERS", "SITE_DIR", "BROWSER_PATH",
                           "LOG_KEY"})


def _is_utf8(text: str) -> bool:
    """``analysis.text.is_utf8``, which every command's start-up would import (with hashlib) to reach from here."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _yaml_kinds(read: Callable[[Any], Any]) -> tuple[type, ...]:
    """The YAML values other than text a setting's reader takes: a number, true or false, a list of networks."""
    if read is bool:  # a built-in: no attribute to say it
        return (bool,)
    return getattr(read, "yaml_kinds", ())


def _check_yaml_kind(setting: Setting, value: Any, where: str) -> None:
    """A config file's value is text, or a kind of value the setting takes: its `~`, a list or a number where text
    goes became "None", "['a']" or "5" by str(), and a HOME of `~` made a store in a folder named None."""
    if isinstance(value, str) or isinstance(value, _yaml_kinds(setting.type)):
        return
    expected = "text" if setting.type is str else setting.type.__name__
    quote = " (in quotes it is text)" if isinstance(value, (bool, int, float)) else ""
    got = "a value not shown (a secret)" if setting.name in SECRET_SETTINGS else repr(value)
    raise SettingsError(f"{where}: {setting.name} expects {expected}, got {got}{quote}")


def _read_config_lines(path: Path) -> dict[str, tuple[Any, int]]:
    """Each setting the config file sets: its value and the line it is on."""
    import yaml

    from analysis.yaml_loading import load_with_tree

    try:
        data, tree = load_with_tree(_read_bounded(path).decode("utf-8"))  # one parse; an alias bomb refused
        data, lines = data or {}, _key_lines(tree)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise SettingsError(f"{where}: not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(not_utf8(path, exc)) from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping of setting names to values")
    values = {}
    for key, value in data.items():
        name = str(key).upper().removeprefix(ENV_PREFIX)
        where = f"{path}:{lines.get(str(key), 1)}"
        if name not in _BY_NAME:
            raise SettingsError(f"{where}: unknown setting {key!r}")
        if name in values:  # "CRAWL_DELAY" and "clausewatch_crawl_delay": one would win unsaid
            raise SettingsError(f"{where}: {key!r} sets {name} again (line {values[name][1]} set it already)")
        _check_yaml_kind(_BY_NAME[name], value, where)
        values[name] = (_coerce(_BY_NAME[name], value, where), lines.get(str(key), 1))
    _warn_if_exposed(path, {name: value for name, (value, _line) in values.items()})
    return values


# A config file is a few settings; more than this is a file given by mistake (`--config /dev/zero` read for ever).
CONFIG_MAX_BYTES = 1 << 20


def _read_bounded(path: Path) -> bytes:
    with path.open("rb") as file:
        data = file.read(CONFIG_MAX_BYTES + 1)
    if len(data) > CONFIG_MAX_BYTES:
        raise SettingsError(f"{path}: more than {CONFIG_MAX_BYTES} bytes: not a config file")
    return data


def _key_lines(node: yaml.Node | None) -> dict[str, int]:
    """The line (from 1) of each top-level key of a YAML mapping."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(key.value): key.start_mark.line + 1 for key, _value in node.value}


# Settings whose value is a secret: never shown, and a config file holding one
# should be readable by its owner only.
SECRET_SETTINGS = frozenset({"SMTP_PASSWORD"})


def _warn_if_exposed(path: Path, values: Mapping[str, Any]) -> None:
    secrets = sorted(name for name in SECRET_SETTINGS if values.get(name))
    mode = stat.S_IMODE(path.stat().st_mode)
    if secrets and mode & 0o077:
        logging.getLogger("clausewatch.settings").warning(
            "%s holds %s but is readable by other users (mode %03o): run chmod 600 %s, or set it in the "
            "environment (%s%s)", path, ", ".join(secrets), mode, path, ENV_PREFIX, secrets[0])


def load_settings(
    environ: Mapping[str, str],
    overrides: Mapping[str, Any] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Resolve every setting: defaults < config file < environment < overrides (flags)."""
    return _resolve(_sourced(environ, overrides, config_file))


@dataclass(frozen=True)
class SettingSource:
    """One setting as ``clausewatch settings`` shows it: its resolved value, where it came from, its help."""

    name: str
    value: Any
    source: str  # "default", "environment CLAUSEWATCH_X", "PATH:LINE", "option --x"
    help: str
    secret: bool

    @property
    def shown(self) -> str:
        """The value as a person may read it: a secret that is set is masked, never shown."""
        if self.secret:
            return "********" if self.value else "(not set)"
        if isinstance(self.value, tuple):
            return ", ".join(map(str, self.value)) or "(none)"
        if self.name in URL_SETTINGS:
            return without_password(str(self.value)) or "(empty)"
        return str(self.value) if self.value != "" else "(empty)"


# Settings that are URLs: a password in one (postgresql://user:secret@host/db) is masked when shown.
URL_SETTINGS = frozenset({"DATABASE_URL", "CRAWL_REDIS_URL"})


def without_password(url: str) -> str:
    """``url`` with the password of its user part, if any, replaced by asterisks."""
    scheme, separator, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    credentials, at, host = authority.rpartition("@")
    if not separator or not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:********@{host}{slash}{path}"


def explain_settings(
    environ: Mapping[str, str],
    overrides: Mapping[str, Any] | None = None,
    config_file: Path | None = None,
) -> list[SettingSource]:
    """Every setting, in declaration order, with its resolved value and its source."""
    sourced = _sourced(environ, overrides, config_file)
    resolved = _resolve(sourced)
    return [SettingSource(s.name, getattr(resolved, s.name.lower()), _source_shown(s, *sourced[s.name]), s.help,
                          s.name in SECRET_SETTINGS) for s in SETTINGS]


# Settings whose empty default means a place inside HOME (see ``_resolve``).
IN_HOME_SETTINGS = frozenset({"DATABASE_URL", "BLOBS", "SUBSCRIBERS", "SITE_DIR", "LOG_KEY"})


def _source_shown(setting: Setting, raw: Any, source: str) -> str:
    """Where a value came from; a default left empty takes its place in HOME, and says so."""
    return "default, in HOME" if source == "default" and raw == "" and setting.name in IN_HOME_SETTINGS else source


def _sourced(
    environ: Mapping[str, str],
    overrides: Mapping[str, Any] | None,
    config_file: Path | None,
) -> dict[str, tuple[Any, str]]:
    """Each setting's raw value and where it came from, by the precedence above."""
    _refuse_unknown_variables(environ)
    values: dict[str, tuple[Any, str]] = {s.name: (s.default, "default") for s in SETTINGS}
    overrides = {k.upper(): v for k, v in (overrides or {}).items() if v is not None}
    env = {
        name: _coerce(_BY_NAME[name], environ[ENV_PREFIX + name], "environment " + ENV_PREFIX + name)
        for name in _BY_NAME
        if ENV_PREFIX + name in environ
    }
    home = Path(overrides.get("HOME") or env.get("HOME") or values["HOME"][0])
    config_file = _config_file(config_file, home)
    if config_file is not None:
        values.update({name: (value, f"{config_file}:{line}")
                       for name, (value, line) in _read_config_lines(config_file).items()})
    values.update({name: (value, "environment " + ENV_PREFIX + name) for name, value in env.items()})
    for name, value in overrides.items():
        flag = "--" + name.lower().replace("_", "-")
        values[name] = (_coerce(_BY_NAME[name], value, flag), "option " + flag)
    return values


def _refuse_unknown_variables(environ: Mapping[str, str]) -> None:
    """A CLAUSEWATCH_ variable that is neither a setting nor one of NOT_SETTINGS: one line each, with the
    setting it most looks like."""
    unknown = sorted(name for name in environ if name.startswith(ENV_PREFIX)
                     and name.removeprefix(ENV_PREFIX) not in _BY_NAME and name not in NOT_SETTINGS)
    if not unknown:
        return
    import difflib  # here, not at start-up: only a mistake needs it

    problems = []
    for name in unknown:
        # Compared without the prefix, which every name shares and would make any two look alike.
        close = difflib.get_close_matches(name.removeprefix(ENV_PREFIX), _BY_NAME, n=1)
        problems.append(f"environment {name}: no such setting"
                        + (f"; did you mean {ENV_PREFIX}{close[0]}?" if close else ""))
    error = SettingsError(problems[0])
    error.problems = problems  # each printed on its own line by the CLI
    raise error


def _config_file(given: Path | None, home: Path) -> Path | None:
    """The config file to read: the one ``--config`` names, which must exist, else HOME/config.yaml if there
    is one. A file meant to be read and not read would leave every setting in it silently at its default;
    ``--config /dev/null`` (no file, an empty one) is read as the empty file it is."""
    path = given or home / "config.yaml"
    if given is None and not path.exists():
        return None  # no config file in HOME: the defaults, the environment and the flags
    if not path.exists() or path.is_dir():
        problem = "is a folder, not a file" if path.exists() else "does not exist"
        raise SettingsError(f"{path}: the config file {problem} ({'--config' if given else 'HOME/config.yaml'})")
    return path


def sqlite_url(path: Path) -> str:
    """The store URL of the SQLite file ``path``: a ``?``, ``#`` or ``%`` in a folder's name is escaped, since the URL
    would otherwise end the path there (a HOME of ``a?b`` put the database at ``a``, its blobs in ``a?b``)."""
    return "sqlite:///" + str(path).replace("%", "%25").replace("?", "%3F").replace("#", "%23")


def _resolve(sourced: dict[str, tuple[Any, str]]) -> Settings:
    values = {name: value for name, (value, _source) in sourced.items()}
    home = Path(values["HOME"]).expanduser()
    fields = {s.name.lower(): values[s.name] for s in SETTINGS}
    fields["home"] = home
    fields["database_url"] = values["DATABASE_URL"] or sqlite_url(home / "clausewatch.db")
    fields["blobs"] = Path(values["BLOBS"]) if values["BLOBS"] else home / "objects"
    fields["catalog"] = Path(values["CATALOG"])
    fields["schedules"] = Path(values["SCHEDULES"])
    fields["subscribers"] = Path(values["SUBSCRIBERS"]) if values["SUBSCRIBERS"] else home / "subscribers.yaml"
    fields["site_dir"] = Path(values["SITE_DIR"]) if values["SITE_DIR"] else home / "site"
    fields["log_key"] = Path(values["LOG_KEY"]) if values["LOG_KEY"] else home / "keys" / "capture-log.key"
    return Settings(**fields, sources={name: source for name, (_value, source) in sourced.items()})
