"""Challenge, block, error and "not found" pages served with a 200 in place of the document."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from bs4 import BeautifulSoup

from analysis.text import is_heading, sentences, under_headings
from crawler.extract.errors import ExtractionError

# Titles of the interstitial pages that anti-bot services serve with a 200.
_BOT_WALL_TITLE = re.compile(
    r"^\s*(?:just a moment|attention required|please wait|checking your browser|verifying you are human"
    r"|access denied|access to this page has been denied|are you a robot|robot check|human verification"
    r"|verify you are (?:a )?human|are you (?:a )?human|verifying your browser|bot verification"
    r"|security check|pardon our interruption|request blocked|ddos-guard|one more step|captcha"
    # Consent interstitials shown in place of the page (Google's, and the same wording elsewhere): seen twice, a
    # shrink is confirmed, and the wall became the policy's version.
    r"|before you continue\b|bevor sie (?:zu \S+ )?weitergehen|avant d'acc[eé]der)",
    re.I,
)
# Markers of challenge pages; only trusted when the page has little text, since
# Cloudflare also injects its challenge-platform script into ordinary pages.
_BOT_WALL_MARKER = re.compile(
    r"cf-browser-verification|cf_chl_opt|challenge-form|cf-challenge|captcha-delivery\.com|px-captcha"
    r"|_Incapsula_Resource|Incapsula incident ID|Enable JavaScript and cookies to continue"
    r"|Please enable JS and disable any ad blocker|Reference&#32;&#35;|errors\.edgesuite\.net",
    re.I,
)
_SHORT_PAGE = 2000
# Captcha widgets are also on contact and newsletter forms of real pages: they mark a wall only on a page that
# is little else than the widget (its few words: "Please complete the security check").
_CAPTCHA_WIDGET = re.compile(
    r"g-recaptcha|recaptcha/api\.js|h-captcha|hcaptcha\.com/1/api\.js|cf-turnstile|challenges\.cloudflare\.com/turnstile",
    re.I,
)
_CAPTCHA_PAGE = 300
# ... and whose words are a challenge's.
_CHALLENGE_WORDS = re.compile(r"human|robot|security check|captcha|unusual traffic|verif|blocked|access denied", re.I)
# What a site's "not found" page says in its title or first heading, served with a 200 ("soft 404"): a bare 404,
# or "not found" wording, with or without the 404 ("404 Media — Privacy Policy" is a title, not an error).
_NOT_FOUND_WORDS = (r"not\s+found|could\s*n[o']t\s+be\s+found|cannot\s+be\s+found|can't\s+be\s+found"
                    r"|does\s*n[o']t\s+exist|no\s+longer\s+exists|nicht\s+gefunden|introuvable|no\s+encontrad"
                    r"|non\s+trovat|niet\s+gevonden|n[aã]o\s+encontrad")
_TITLE_CHARS = 200
_NOT_FOUND = re.compile(
    r"^\W*(?:(?:error|http)\s*)?404\s*(?:error|page)?\W*$"
    rf"|\b404\b.*(?:{_NOT_FOUND_WORDS})|(?:{_NOT_FOUND_WORDS}).*\b404\b"
    rf"|^\W*(?:(?:sorry|oops)\b\W*)?(?:(?:this|the)\s+)?(?:page|file|document)?\s*(?:you\s+\S+\s+(?:for\s+)?)?"
    rf"(?:was\s+|is\s+)?(?:{_NOT_FOUND_WORDS})[\s.!]*(?:$|[|\-\u2013\u2014:\u00b7\u2022])"
    r"|^\W*(?:sorry|oops)\b.{0,60}\b(?:" + _NOT_FOUND_WORDS + r")",
    re.I,
)

# ... and what other error pages say there, the whole title or heading (a site's name may follow a separator): an
# HTTP error's code and reason phrase ("403 Forbidden", "Error 503"), a maintenance notice, a sign-in form (with a
# password field on the page). "500 Startups Privacy Policy" is a title, not an error.
_THEN_END = r"[\s.!]*(?:$|[|\-\u2013\u2014:\u00b7\u2022])"
_CLIENT_ERROR = re.compile(
    r"^\W*(?:(?:error|http)\s*)?(?:401|403|429|451)\s*(?:error)?\s*[:\-]?\s*"
    r"(?:forbidden|unauthori[sz]ed|access\s+denied|too\s+many\s+requests|unavailable\s+for\s+legal\s+reasons)?"
    rf"{_THEN_END}|^\W*(?:forbidden|unauthori[sz]ed|too\s+many\s+requests|unavailable\s+for\s+legal\s+reasons)"
    rf"{_THEN_END}", re.I)
_SERVER_ERROR = re.compile(
    r"^\W*(?:(?:error|http)\s*)?(?:500|502|503|504)\s*(?:error)?\s*[:\-]?\s*"
    rf"(?:internal\s+server\s+error|service\s+(?:temporarily\s+)?unavailable|bad\s+gateway|gateway\s+time-?out)?{_THEN_END}"
    r"|^\W*(?:internal\s+server\s+error|service\s+(?:temporarily\s+)?unavailable|bad\s+gateway|gateway\s+time-?out"
    r"|server\s+error|we'?ll\s+be\s+(?:right\s+)?back(?:\s+soon)?|(?:the\s+)?(?:site|website|page|service)\s+(?:is\s+)?"
    r"(?:down\s+for|under)\s+maintenance|(?:down\s+for|under)\s+(?:scheduled\s+)?maintenance"
    rf"|temporarily\s+unavailable){_THEN_END}", re.I)
# An error said as a message rather than a status, in a plain-text body: "Error: upstream unavailable", a proxy's
# "no healthy upstream". Not read in pages' titles: "Exception: arbitration opt-out" is a policy's.
_ERROR_MESSAGE = re.compile(r"^\W*(?:fatal\s+|internal\s+|server\s+|application\s+)?error"
                            r"(?:\s*:|\s+[-\u2013\u2014])\s*\S"
                            r"|^\W*(?:no\s+healthy\s+upstream|upstream\s+(?:connect\s+error|(?:service\s+)?unavailable"
                            r"|timed?[\s-]*out|request\s+timeout))", re.I)
_SIGN_IN = re.compile(r"^\W*(?:please\s+)?(?:(?:sign|log)\s*(?:in|on)|login)(?:\s+to\s+(?:continue|your\s+account))?"
                      rf"{_THEN_END}", re.I)
# A redirect's stub served with a 200 (IIS's "Object moved", "Document Moved"): archived as a policy's version 1.
_MOVED = re.compile(rf"^\W*(?:(?:the\s+)?(?:document|object|page)\s+(?:has\s+)?(?:moved|been\s+moved)){_THEN_END}",
                    re.I)
# A page whose few words stand beside a frame holding the text (an embedded policy service, a frameset).
_FRAMED_WORDS = 30
# ... or with an identity provider's button instead of a password field ("Continue with Google").
_SINGLE_SIGN_ON = re.compile(r"(?:continue|sign\s*in|log\s*in)\s+with\s+(?:google|apple|microsoft|facebook|github|sso)",
                             re.I)
_PASSWORD_FIELD = re.compile(r"<input\b[^>]*\btype\s*=\s*[\"']?password", re.I)

# What else stands in a document's place and says so, as the whole title or first heading (or, on a page of a few
# words, as its first sentence, or its second after a few words of its own): each was archived as a policy's version
# 1, where no earlier text showed a shrink. Whole, since help pages open with the same words ("Update your browser |
# Acme Help", "Rate limits"). Each family is said in English and in the languages the real data shows terms tracked
# in (decision 0013, nineteenth pass): German, French, Spanish, Italian, Dutch, Portuguese, Catalan, Russian, Czech,
# Danish and Hungarian, in the words their sites use, one string a language.
_WHOLE = r"[\s.!]*$"
_NAMED = r"[\w-]+(?:\.[\w-]+)+"  # a domain's name: "example.de"
_NAME = r"(?:\s+[\w.-]+)?"  # ... after the word for domain: "Die Domain example.de steht zum Verkauf"


def _whole(*phrases: str) -> re.Pattern[str]:
    """What a stand-in says, as the whole of a title, heading or sentence."""
    return re.compile(r"^\W*(?:" + "|".join(phrases) + ")" + _WHOLE, re.I)


# The site is not there: a parked or for-sale domain, a suspended hosting account, a web server's default page or
# its listing of a folder (a host's own pages are in English but for a domain's sale).
_HOST_WORDS = (
    r"(?:(?:this\s+|the\s+)?domain(?:\s+name)?(?:\s+[\w.-]+)?\s+(?:is|may\s+be)\s+for\s+sale"
    r"|[\w-]+(?:\.[\w-]+)+\s+(?:is|may\s+be)\s+for\s+sale|buy\s+this\s+domain"
    r"|(?:this\s+)?domain\s+(?:is\s+|has\s+been\s+)?parked"
    r"|(?:this\s+)?(?:account|site|website)\s+(?:has\s+been\s+|is\s+)?suspended"
    r"|welcome\s+to\s+nginx|it\s+works|apache2?(?:\s+\w+)?\s+default\s+page(?:\s*:\s*it\s+works)?"
    r"|test\s+page\s+for\s+(?:the\s+)?(?:apache|nginx)(?:\s+\w+)*|index\s+of\s+/\S*)",
    rf"(?:die(?:se)?\s+)?domain{_NAME}\s+(?:steht\s+zum\s+verkauf|ist\s+zu\s+verkaufen)"
    rf"|{_NAMED}\s+steht\s+zum\s+verkauf"
    r"|diese\s+domain\s+kaufen",
    rf"(?:ce\s+|le\s+)?(?:nom\s+de\s+)?domaine{_NAME}\s+est\s+[àa]\s+vendre|{_NAMED}\s+est\s+[àa]\s+vendre"
    r"|achet(?:er|ez)\s+ce\s+(?:nom\s+de\s+)?domaine",
    rf"(?:este\s+|el\s+)?dominio{_NAME}\s+(?:est[áa]\s+(?:en|a\s+la)\s+venta|se\s+vende)"
    rf"|{_NAMED}\s+est[áa]\s+(?:en|a\s+la)\s+venta|compr[ae]\s+este\s+dominio",
    rf"(?:questo\s+|il\s+)?dominio{_NAME}\s+[èe]\s+in\s+vendita|{_NAMED}\s+[èe]\s+in\s+vendita"
    r"|acquista\s+questo\s+dominio",
    rf"(?:dit\s+|het\s+|deze\s+)?domein(?:naam)?{_NAME}\s+is\s+te\s+koop|{_NAMED}\s+is\s+te\s+koop"
    r"|koop\s+(?:dit\s+domein|deze\s+domeinnaam)",
    rf"(?:este\s+|o\s+)?dom[íi]nio{_NAME}\s+est[áa]\s+[àa]\s+venda|{_NAMED}\s+est[áa]\s+[àa]\s+venda"
    r"|compre\s+este\s+dom[íi]nio",
    rf"(?:aquest\s+|el\s+)?domini{_NAME}\s+(?:est[àa]|és)\s+(?:en|a\s+la)\s+venda",
    rf"(?:этот\s+)?домен{_NAME}\s+(?:прода[её]тся|выставлен\s+на\s+продажу)|{_NAMED}\s+прода[её]тся"
    r"|купить\s+этот\s+домен",
    rf"(?:tato\s+)?doména{_NAME}\s+je\s+na\s+prodej|{_NAMED}\s+je\s+na\s+prodej|kupte\s+si\s+tuto\s+doménu",
    rf"(?:dette\s+)?domæne(?:t|navn(?:et)?)?{_NAME}\s+er\s+til\s+salg|{_NAMED}\s+er\s+til\s+salg|køb\s+dette\s+domæne",
    rf"(?:ez\s+a\s+|a\s+)?domain(?:\s*n[ée]v)?{_NAME}\s+elad[óo]|{_NAMED}\s+elad[óo]",
)
# The document is refused here and now: to this region, past a rate limit, to a session that ended.
_IN_DE = r"(?:in\s+(?:deinem|ihrem)\s+land|in\s+(?:deiner|ihrer)\s+region)"
_IN_FR = r"dans\s+votre\s+(?:pays|r[ée]gion|zone(?:\s+g[ée]ographique)?)"
_IN_ES = r"en\s+(?:tu|su)\s+(?:pa[íi]s|regi[óo]n|ubicaci[óo]n)"
_IN_IT = r"(?:nel\s+(?:tuo|suo)\s+paese|nella\s+(?:tua|sua)\s+(?:area|regione|zona))"
_IN_NL = r"in\s+(?:jouw|je|uw)\s+(?:land|regio)"
_IN_PT = r"(?:no\s+(?:seu|teu)\s+pa[íi]s|na\s+(?:sua|tua)\s+regi[ãa]o)"
_IN_RU = r"в\s+(?:вашем\s+регионе|вашей\s+стране)"
_IN_CS = r"ve\s+(?:vaší\s+(?:zemi|oblasti)|vašem\s+regionu)"
_IN_DA = r"i\s+(?:dit|jeres)\s+(?:land|område)|i\s+din\s+region"
_IN_HU = r"(?:az\s+ön\s+(?:országában|régiójában)|az\s+országodban|a\s+régiódban)"
_REFUSAL_WORDS = (
    r"(?:(?:(?:this\s+)?(?:content|page|site|website|service)\s+is\s+)?(?:not|un)\s*available\s+in"
    r"\s+your\s+(?:region|country|location|area)|rate\s+limit(?:ed|\s+exceeded)|you(?:'ve|\s+have)\s+been"
    r"\s+rate[\s-]+limited|(?:your\s+)?session\s+(?:has\s+)?(?:expired|timed\s+out))",
    r"(?:(?:dieser\s+inhalt|diese\s+seite|dieses\s+angebot|dieser\s+dienst|diese\s+website|dieses\s+video)\s+ist\s+)?"
    rf"(?:leider\s+)?(?:{_IN_DE}\s+(?:leider\s+)?nicht\s+verf[üu]gbar|nicht\s+(?:{_IN_DE}\s+verf[üu]gbar"
    rf"|verf[üu]gbar\s+{_IN_DE}))|(?:(?:deine|ihre|die)\s+)?sitzung\s+(?:ist\s+)?abgelaufen|zu\s+viele\s+anfragen",
    r"(?:(?:ce\s+contenu|cette\s+page|ce\s+service|ce\s+site|cette\s+vid[ée]o)\s+)?(?:n'est\s+pas\s+disponible"
    rf"|est\s+indisponible)\s+{_IN_FR}|(?:non\s+disponible|indisponible)\s+{_IN_FR}"
    r"|(?:votre\s+)?session\s+(?:a\s+expir[ée]|est\s+expir[ée]e|expir[ée]e)|trop\s+de\s+requ[êe]tes",
    r"(?:(?:este\s+contenido|esta\s+p[áa]gina|este\s+servicio|este\s+sitio)\s+)?no\s+(?:est[áa]|es)\s+disponible"
    rf"\s+{_IN_ES}|no\s+disponible\s+{_IN_ES}|(?:(?:tu|su|la)\s+)?sesi[óo]n\s+(?:ha\s+)?(?:caducad[oa]|expirad[oa])"
    r"|demasiadas\s+(?:solicitudes|peticiones)",
    r"(?:(?:questo\s+contenuto|questa\s+pagina|questo\s+servizio|questo\s+sito)\s+)?"
    rf"non\s+[èe]\s+disponibile\s+{_IN_IT}"
    rf"|non\s+disponibile\s+{_IN_IT}|(?:la\s+(?:tua\s+)?)?sessione\s+(?:[èe]\s+)?scaduta|troppe\s+richieste",
    rf"(?:deze\s+(?:inhoud|pagina|dienst|site|website|video)\s+is\s+)?(?:niet\s+beschikbaar\s+{_IN_NL}|{_IN_NL}\s+niet"
    r"\s+beschikbaar)|(?:(?:je|jouw|uw|de)\s+)?sessie\s+(?:is\s+)?verlopen|te\s+veel\s+(?:verzoeken|aanvragen)",
    r"(?:(?:este\s+conte[úu]do|esta\s+p[áa]gina|este\s+servi[çc]o|este\s+site)\s+)?n[ãa]o\s+(?:est[áa]\s+)?"
    rf"dispon[íi]vel\s+{_IN_PT}|indispon[íi]vel\s+{_IN_PT}|(?:(?:a\s+)?(?:sua|tua)\s+)?sess[ãa]o\s+(?:expirou|expirada)"
    r"|(?:muitas|demasiadas)\s+(?:solicita[çc][õo]es|requisi[çc][õo]es)|(?:muitos|demasiados)\s+pedidos",
    r"no\s+(?:est[àa]\s+|és\s+)?disponible\s+(?:al\s+teu\s+pa[íi]s|a\s+la\s+teva\s+regi[óo])"
    r"|(?:la\s+)?sessi[óo]\s+ha\s+(?:caducat|expirat)",
    r"(?:(?:(?:этот\s+)?(?:контент|сервис|сайт|материал)|(?:эта\s+)?страница|(?:это\s+)?видео)\s+)?"
    rf"(?:не\s*доступ(?:ен|на|но)\s+{_IN_RU}|{_IN_RU}\s+не\s*доступ(?:ен|на|но))"
    r"|(?:ваша\s+)?сессия\s+(?:истекла|завершена)|срок\s+(?:действия\s+)?сессии\s+ист[её]к|слишком\s+много\s+запросов",
    r"(?:(?:tento\s+obsah|tato\s+stránka|tato\s+služba|tento\s+web)\s+)?(?:není\s+(?:" + _IN_CS
    + r"\s+(?:dostupn[ýáé]|k\s+dispozici)|(?:dostupn[ýáé]|k\s+dispozici)\s+" + _IN_CS + r")|(?:je\s+)?nedostupn[ýáé]\s+"
    + _IN_CS + r")|(?:platnost\s+)?relace\s+vypršela|příliš\s+mnoho\s+požadavků",
    r"(?:(?:dette\s+indhold|denne\s+side|denne\s+tjeneste|denne\s+video)\s+er\s+)?ikke\s+tilgængeligt?\s+(?:"
    + _IN_DA + r")|(?:din\s+)?session(?:en)?\s+er\s+udløbet|for\s+mange\s+(?:anmodninger|forespørgsler)",
    r"(?:(?:ez\s+a\s+tartalom|ez\s+az\s+oldal|ez\s+a\s+szolgáltatás|ez\s+a\s+videó)\s+)?"
    r"(?:nem\s+(?:érhető\s+el|elérhető)"
    rf"\s+{_IN_HU}|{_IN_HU}\s+nem\s+(?:érhető\s+el|elérhető))|(?:a\s+)?munkamenet\s+lejárt|lejárt\s+a\s+munkamenet"
    r"|túl\s+sok\s+kérés",
)
# The client is refused: another browser, cookies asked for.
_CLIENT_WORDS = (
    r"(?:(?:your\s+|this\s+)?browser\s+is\s+(?:not|no\s+longer)\s+supported|unsupported\s+browser"
    r"|(?:please\s+)?(?:upgrade|update)\s+your\s+browser|(?:please\s+)?enable\s+cookies"
    r"|cookies\s+(?:are\s+)?(?:required|disabled))",
    r"(?:(?:dein|ihr)\s+)?browser\s+wird\s+(?:leider\s+)?nicht(?:\s+mehr)?\s+unterst[üu]tzt|nicht\s+unterst[üu]tzter"
    r"\s+browser|browser\s+nicht\s+unterst[üu]tzt|(?:bitte\s+)?aktualisiere(?:n\s+sie)?\s+(?:deinen|ihren)\s+browser"
    r"|(?:bitte\s+)?(?:aktiviere(?:n\s+sie)?\s+cookies|cookies\s+aktivieren)|cookies\s+(?:sind\s+)?deaktiviert",
    r"(?:votre\s+)?navigateur\s+n'est\s+(?:pas|plus)\s+(?:pris\s+en\s+charge|support[ée]|compatible)|navigateur\s+non"
    r"\s+(?:pris\s+en\s+charge|support[ée]|compatible)|(?:veuillez\s+)?mettre\s+[àa]\s+jour\s+votre\s+navigateur"
    r"|mettez\s+[àa]\s+jour\s+votre\s+navigateur|(?:veuillez\s+)?activer\s+les\s+cookies|activez\s+les\s+cookies"
    r"|les\s+cookies\s+sont\s+d[ée]sactiv[ée]s",
    r"(?:(?:tu|su)\s+)?navegador\s+(?:ya\s+)?no\s+(?:es\s+compatible|est[áa]\s+soportado)"
    r"|navegador\s+no\s+(?:compatible"
    r"|soportado)|actualiza\s+tu\s+navegador|actualice\s+su\s+navegador|(?:por\s+favor,?\s+)?(?:habilita|activa"
    r"|habilite|active)\s+(?:las\s+)?cookies|las\s+cookies\s+est[áa]n\s+(?:desactivadas|deshabilitadas)",
    r"(?:il\s+tuo\s+)?browser\s+non\s+[èe]\s+(?:pi[ùu]\s+)?supportato|browser\s+non\s+supportato|aggiorna\s+il\s+tuo"
    r"\s+browser|(?:per\s+favore,?\s+)?(?:abilita|attiva)\s+i\s+cookie|i\s+cookie\s+sono\s+disabilitati",
    r"(?:(?:je|jouw|uw)\s+)?browser\s+wordt\s+niet\s+(?:meer\s+)?ondersteund|niet[\s-]+ondersteunde\s+browser"
    r"|browser\s+niet\s+ondersteund|(?:update|werk)\s+(?:je|jouw|uw)\s+browser(?:\s+bij)?|(?:schakel|zet)\s+cookies"
    r"\s+(?:in|aan)|cookies\s+inschakelen|cookies\s+zijn\s+uitgeschakeld",
    r"(?:o\s+)?(?:(?:seu|teu)\s+)?navegador\s+n[ãa]o\s+[ée]\s+(?:mais\s+)?(?:suportado|compat[íi]vel)"
    r"|navegador\s+n[ãa]o"
    r"\s+(?:suportado|compat[íi]vel)|atualize\s+(?:o\s+)?seu\s+navegador|(?:por\s+favor,?\s+)?(?:ative|habilite)"
    r"\s+(?:os\s+)?cookies|os\s+cookies\s+est[ãa]o\s+desativados",
    r"el\s+teu\s+navegador\s+no\s+[ée]s\s+compatible|actualitza\s+el\s+teu\s+navegador|activa\s+les\s+galetes",
    r"(?:ваш\s+)?браузер\s+(?:не\s+поддерживается|устарел)|неподдерживаемый\s+браузер|обновите\s+(?:ваш\s+|свой\s+)?"
    r"браузер|(?:пожалуйста,?\s+)?включите\s+(?:файлы\s+)?cookies?|(?:файлы\s+)?cookies?\s+отключены",
    r"(?:váš\s+)?prohlížeč\s+není\s+podporován|nepodporovaný\s+prohlížeč|aktualizujte\s+(?:svůj\s+)?prohlížeč"
    r"|(?:prosím,?\s+)?povolte\s+(?:soubory\s+)?cookies?|cookies\s+(?:jsou\s+)?(?:zakázány|vypnuty)",
    r"(?:din\s+)?browser(?:en)?\s+understøttes\s+ikke(?:\s+længere)?|opdater\s+din\s+browser|(?:aktivér|aktiver|slå)"
    r"\s+cookies(?:\s+til)?|cookies\s+er\s+(?:deaktiveret|slået\s+fra)",
    r"(?:az\s+ön\s+)?böngészője\s+nem\s+támogatott|a\s+böngésző\s+nem\s+támogatott|nem\s+támogatott\s+böngésző"
    r"|frissítse\s+(?:a\s+)?böngészőjét|(?:kérjük,?\s+)?engedélyezze\s+a\s+(?:sütiket|cookie-kat)",
)
# A failure in other words than a status.
_ERROR_WORDS = (
    r"(?:something\s+went\s+wrong|an?\s+(?:unexpected\s+)?error\s+(?:has\s+)?occurred|we(?:'re|\s+are)\s+(?:having\s+)?"
    r"(?:some\s+)?(?:trouble|problems|technical\s+difficulties))",
    r"etwas\s+ist\s+schief\s*gelaufen|(?:es\s+ist\s+)?ein\s+(?:unerwarteter\s+)?fehler\s+(?:ist\s+)?aufgetreten",
    r"une\s+erreur\s+(?:inattendue\s+)?(?:est\s+survenue|s'est\s+produite)|un\s+probl[èe]me\s+(?:est\s+survenu"
    r"|s'est\s+produit)|quelque\s+chose\s+s'est\s+mal\s+pass[ée]",
    r"(?:se\s+ha\s+producido|ha\s+ocurrido|ocurri[oó])\s+un\s+error(?:\s+inesperado)?|algo\s+(?:sali[oó]|ha\s+salido"
    r"|ha\s+ido)\s+mal",
    r"si\s+[eè]\s+verificato\s+un\s+errore(?:\s+imprevisto)?|qualcosa\s+[eè]\s+andato\s+storto",
    r"er\s+(?:is\s+iets\s+(?:misgegaan|fout\s*gegaan)|ging\s+iets\s+(?:mis|fout)|is\s+een\s+(?:onverwachte\s+)?fout"
    r"\s+opgetreden)",
    r"algo\s+(?:deu|correu)\s+(?:errado|mal)|ocorreu\s+um\s+erro(?:\s+inesperado)?",
    r"alguna\s+cosa\s+(?:ha\s+anat|va\s+anar)\s+malament|s'ha\s+produ[iï]t\s+un\s+error",
    r"что-?\s*то\s+пошло\s+не\s+так|произошла\s+(?:непредвиденная\s+|неизвестная\s+)?ошибка",
    r"něco\s+se\s+pokazilo|došlo\s+k\s+(?:neočekávané\s+)?chybě|(?:nastala|vyskytla\s+se)\s+(?:neočekávaná\s+)?chyba",
    r"noget\s+gik\s+galt|der\s+(?:opstod|er\s+opstået|skete)\s+en\s+(?:uventet\s+)?fejl",
    r"(?:valami\s+|váratlan\s+)?hiba\s+történt|valami\s+elromlott",
)
# ... after an exclamation of its own, any of them ("Oops! Something went wrong.", "Hoppla! …", "Упс! …").
_OOPS = r"(?:(?:oops|sorry|uh[\s-]*oh|hoppla|huch|oups|ups|упс|ой)\W*)?"
# Maintenance said in a sentence, or in another language than the headings' patterns read.
_MAINTENANCE_WORDS = (
    r"(?:we(?:'re|\s+are)|(?:the|this|our)\s+(?:site|website|service|page)\s+is)\s+(?:currently\s+)?"
    r"(?:down\s+for|undergoing|performing|under)\s+(?:some\s+)?(?:scheduled\s+)?maintenance",
    r"wartungsarbeiten|(?:die\s+)?(?:seite|website)\s+(?:ist\s+)?(?:vor[üu]bergehend\s+)?in\s+wartung"
    r"|wir\s+f[üu]hren\s+(?:gerade\s+|derzeit\s+|momentan\s+)?wartungsarbeiten\s+durch"
    r"|(?:die\s+)?(?:seite|website|webseite)\s+wird\s+(?:gerade\s+)?gewartet",
    r"(?:(?:le\s+)?site\s+)?en\s+(?:cours\s+de\s+)?maintenance|(?:le\s+site\s+est|nous\s+sommes)\s+(?:actuellement\s+"
    r"|momentan[ée]ment\s+)?en\s+(?:cours\s+de\s+)?maintenance|maintenance\s+en\s+cours",
    r"(?:(?:el\s+)?sitio\s+)?en\s+mantenimiento|(?:estamos|el\s+sitio\s+(?:web\s+)?est[áa])\s+(?:actualmente\s+)?"
    r"(?:en\s+mantenimiento|realizando\s+(?:tareas\s+de\s+)?mantenimiento)",
    r"(?:(?:il\s+)?sito\s+)?in\s+manutenzione|(?:il\s+sito\s+[èe]|siamo)\s+(?:attualmente\s+)?in\s+manutenzione"
    r"|manutenzione\s+in\s+corso",
    r"(?:(?:de\s+)?(?:site|website)\s+is\s+)?(?:tijdelijk\s+)?in\s+onderhoud"
    r"|(?:we|wij)\s+zijn\s+(?:momenteel\s+|even\s+)?"
    r"bezig\s+met\s+onderhoud|(?:we|wij)\s+voeren\s+(?:momenteel\s+)?onderhoud\s+uit",
    r"(?:(?:o\s+)?site\s+)?em\s+manuten[cç][aã]o"
    r"|(?:estamos|o\s+site\s+est[áa])\s+(?:atualmente\s+)?em\s+manuten[cç][aã]o",
    r"(?:el\s+lloc\s+(?:web\s+)?(?:est[àa]\s+)?)?en\s+manteniment",
    r"(?:сайт\s+)?(?:находится\s+)?на\s+(?:техническом\s+)?обслуживании"
    r"|(?:на\s+сайте\s+)?(?:ведутся|проводятся)\s+(?:плановые\s+)?технические\s+работы",
    r"(?:(?:stránka|web|webová\s+stránka|služba)\s+je\s+)?(?:momentálně\s+|dočasně\s+)?(?:v\s+údržbě|mimo\s+provoz"
    r"\s+z\s+důvodu\s+údržby)|probíhá\s+(?:plánovaná\s+)?údržba",
    r"(?:(?:siden|hjemmesiden|tjenesten)\s+er\s+)?(?:midlertidigt\s+)?(?:nede\s+(?:på\s+grund\s+af|pga\.?)\s+"
    r"vedligeholdelse|under\s+vedligeholdelse)|vi\s+(?:udfører|foretager)\s+vedligeholdelse",
    r"(?:(?:az\s+oldal|a\s+weboldal|a\s+honlap|a\s+szolgáltatás)\s+)?(?:jelenleg\s+)?karbantartás\s+alatt(?:\s+áll)?"
    r"|karbantartást\s+végzünk",
)
# A page not written yet.
UNWRITTEN_WORDS = (
    r"(?:(?:(?:this|our|the)\s+)?(?:site|page|website)\s+(?:is\s+)?)?(?:under\s+construction|coming\s+soon)",
    r"(?:(?:diese\s+)?(?:seite|website|webseite)\s+(?:ist\s+|befindet\s+sich\s+)?(?:noch\s+)?)?im\s+aufbau"
    r"|(?:in\s+k[üu]rze|demn[äa]chst|bald)\s+verf[üu]gbar",
    r"(?:(?:ce\s+|le\s+|notre\s+)?site\s+(?:est\s+)?|page\s+)?en\s+(?:cours\s+de\s+)?construction"
    r"|bient[ôo]t\s+disponible"
    r"|prochainement",
    r"(?:(?:este\s+|el\s+|nuestro\s+)?sitio\s+(?:(?:web\s+)?est[áa]\s+)?|p[áa]gina\s+)?en\s+construcci[óo]n"
    r"|pr[óo]ximamente",
    r"(?:(?:il\s+|questo\s+)?sito\s+(?:[èe]\s+)?|pagina\s+)?in\s+costruzione|prossimamente",
    r"(?:(?:deze\s+)?(?:site|website|pagina)\s+is\s+)?in\s+aanbouw|binnenkort(?:\s+(?:beschikbaar|online))?",
    r"(?:(?:este\s+|o\s+)?site\s+(?:est[áa]\s+)?|p[áa]gina\s+)?em\s+constru[cç][aã]o|em\s+breve",
    r"en\s+construcci[óo]|properament",
    r"(?:(?:сайт|страница)\s+)?(?:находится\s+)?в\s+(?:стадии\s+)?разработки|(?:(?:сайт|страница)\s+)?(?:находится\s+)?"
    r"в\s+разработке|скоро\s+открытие",
    r"(?:(?:stránka|web|webová\s+stránka)\s+je\s+)?ve\s+výstavbě|(?:již|už)\s+brzy|připravujeme",
    r"(?:(?:siden|hjemmesiden)\s+er\s+)?under\s+(?:opbygning|konstruktion)|kommer\s+snart",
    r"(?:az\s+oldal\s+)?(?:fejlesztés|építés|felújítás)\s+alatt(?:\s+áll)?|hamarosan(?:\s+(?:érkezik|indul))?",
)
_HOST_PAGE = (_whole(*_HOST_WORDS), "http_4xx", "a page of the site's host, not of the site")
_CLIENT_PAGE = (_whole(*_CLIENT_WORDS), "bot_wall", "a page refusing this client")
_PLACE_TAKEN = (
    _HOST_PAGE,
    (_whole(*_REFUSAL_WORDS), "http_4xx", "a page refusing the request"),
    _CLIENT_PAGE,
    (_whole(_OOPS + "(?:" + "|".join(_ERROR_WORDS) + ")"), "http_5xx", "an error page"),
    (_whole(*_MAINTENANCE_WORDS), "http_5xx", "a maintenance page"),
    (_whole(*UNWRITTEN_WORDS), "empty", "a page not written yet"),
)
# A page this short is a stub: the first sentence under its headings speaks for it too, and the second after a
# first this short, a few words of the stub's own ("Welcome to Acme. Our site is under construction."), when it is
# the page's last. Not as a refusal of cookies or a browser (a cookie notice says "This site uses essential cookies
# only. Please enable cookies.") nor as a web server's page (a changelog's "It works."): those only in first place.
_STUB_PAGE = 300
_OPENER_CHARS = 80
_SAID_SECOND = tuple(rule for rule in _PLACE_TAKEN if rule not in (_HOST_PAGE, _CLIENT_PAGE))


def _title(soup: BeautifulSoup) -> str:
    """The document's own title: an inline SVG's <title> names an icon, not the page."""
    title_tag = (soup.head or soup).find("title", recursive=soup.head is not None)
    return title_tag.get_text(" ", strip=True) if title_tag else ""


def check_title(soup: BeautifulSoup, url: str) -> None:
    """Raise ``bot_wall`` when the page title is that of a challenge or block page and the page has little text.

    The titles are matched by their start ("Just a moment...", "Access denied | …"), which a real document's
    title may share: "CaptchaFox Terms of Service" over 27 KB of terms is the document, not a wall. The page's
    text is only counted when the title matches.
    """
    title = _title(soup)
    if _BOT_WALL_TITLE.match(title) and len((soup.body or soup).get_text(" ", strip=True)) < _SHORT_PAGE:
        raise ExtractionError("bot_wall", f"{url} served a bot wall titled {title[:80]!r}")


def check_markers(html: str, url: str, text_length: int, *, text: str | None = None) -> None:
    """Raise ``bot_wall`` when a page with little text carries a challenge marker, or when the whole page's
    ``text`` (not given for a selected section, which says nothing of the page around it) is a few words of a
    challenge beside a captcha widget."""
    if text_length < _SHORT_PAGE and (match := _BOT_WALL_MARKER.search(html)):
        raise ExtractionError("bot_wall", f"{url} served a challenge page ({match.group(0)!r})")
    if (text is not None and len(text) < _CAPTCHA_PAGE and (not text.strip() or _CHALLENGE_WORDS.search(text))
            and (match := _CAPTCHA_WIDGET.search(html))):
        raise ExtractionError("bot_wall", f"{url} served a captcha page ({match.group(0)!r})")


# A script that sends the browser elsewhere: "location.href = '…'", "window.location = …", "location.replace(…)";
# looked for in the text of <script> elements only (an attribute such as data-location="de" is no redirect).
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script\s*>", re.I | re.S)
_SCRIPT_REDIRECT = re.compile(r"(?<![\w$-])location(?:\.href)?\s*=(?!=)|(?<![\w$-])location\.(?:replace|assign)\s*\(")
_HANDLER = re.compile(r"\bfunction\b|=>|addEventListener|\bon[a-z]+\s*=")
_REDIRECT_STUB = 300
# ... and a stub's few words, which say the page is moving on (a button's script alone is no redirect).
_STUB_WORDS = re.compile(r"redirect|click here|moved|if you are not|you will be|loading|please wait|weiterleitung"
                         r"|redirection|redirigi|reindirizz|doorverwez", re.I)


def _immediate_redirect(script: str) -> bool:
    """A script that moves on as it runs (or after a timeout), not one that defines a handler for a button."""
    return bool(_SCRIPT_REDIRECT.search(script)) and ("setTimeout" in script or not _HANDLER.search(script))


def check_script_redirect(html: str, markdown: str, url: str) -> None:
    """Raise ``redirect_refused`` for a whole page that is a stub whose script redirects: its few words
    ("Redirecting…") are not the document, and an HTTP fetch runs no script to reach the one it leads to."""
    if len(markdown) < _REDIRECT_STUB and (not markdown.strip() or _STUB_WORDS.search(markdown)) \
            and any(_immediate_redirect(script) for script in _SCRIPT.findall(html)):
        raise ExtractionError("redirect_refused", f"{url} only redirects with a script ({markdown.strip()[:60]!r}): "
                                                  "declare its target URL, or `fetcher: browser`")


def check_error_page(soup: BeautifulSoup, html: str, markdown: str, url: str, *, whole_page: bool = True) -> None:
    """Raise ``http_4xx`` or ``http_5xx`` when a page with little text says, in its title or (a whole page) its first
    heading, that it is an error: not found, another HTTP error ("403 Forbidden", "Error 503"), down for maintenance,
    or a sign-in form. A site's error page served with a 200 is a failure, never a version (SPEC §4). The title
    speaks for the page even when a selected section of it is what is kept, and a title saying "not found" does
    whatever the page's length: a soft 404 may list dozens of help articles under "Page not found"."""
    title = _as_said(_title(soup))
    if _NOT_FOUND.search(title):
        raise ExtractionError("http_4xx", f"{url} answered 200 with a 'not found' page ({title[:80]!r})")
    if len(markdown) >= _SHORT_PAGE:
        return
    said = [title]
    if whole_page:
        said.append(_as_said(next((line.lstrip("#").strip() for line in markdown.splitlines() if is_heading(line)),
                                  "")))
    for text in said:
        if not text:
            continue
        _check_error_said(text, url)
        if _MOVED.search(text):
            raise ExtractionError("redirect_refused", f"{url} answered 200 with a page saying it moved "
                                                      f"({text[:80]!r}): declare its new URL")
        if _SIGN_IN.search(text) and (_PASSWORD_FIELD.search(html) or _SINGLE_SIGN_ON.search(html)):
            raise ExtractionError("http_4xx", f"{url} answered 200 with a sign-in page ({text[:80]!r}): the document "
                                              "is behind a login")
    second = ""
    if whole_page and len(markdown) < _STUB_PAGE:
        first, second = map(_as_said, _opening_sentences(under_headings(markdown)))
        said.append(first)
    if taken := _place_taken(said, second):
        kind, what, text = taken
        raise ExtractionError(kind, f"{url} answered 200 with {what} ({text[:80]!r}), not the document")


def _place_taken(said: list[str], second: str) -> tuple[str, str, str] | None:
    """The failure kind, what the page is and the words that say it, when one of ``said`` (a title, a heading, a
    first sentence) says a stand-in's words, or ``second`` (a short page's second sentence) those read there."""
    for text, rules in [*((text, _PLACE_TAKEN) for text in said), (second, _SAID_SECOND)]:
        for pattern, kind, what in rules:
            if text and pattern.search(text):
                return kind, what, text
    return None


def _check_error_said(text: str, url: str, page: str = "page") -> None:
    """Raise when a title, heading or first line says the response is an error: not found, an HTTP error, a server
    or proxy failing."""
    if _NOT_FOUND.search(text):
        raise ExtractionError("http_4xx", f"{url} answered 200 with a 'not found' {page} ({text[:80]!r})")
    if _CLIENT_ERROR.search(text):
        raise ExtractionError("http_4xx", f"{url} answered 200 with an error {page} ({text[:80]!r})")
    if _SERVER_ERROR.search(text):
        raise ExtractionError("http_5xx", f"{url} answered 200 with an error or maintenance {page} ({text[:80]!r})")


def check_plain_error(text: str, url: str) -> None:
    """Raise when a plain-text body of a few words is an error message: what a proxy or a crashed application sends
    as text/plain ("Error: upstream unavailable", "no healthy upstream"), archived as a policy's version 1 where no
    earlier text showed a shrink. Its first line speaks for it, as a short page's title or first heading does."""
    if len(text) >= _STUB_PAGE:
        return
    first = _as_said(text.strip().partition("\n")[0])
    _check_error_said(first, url, "message")
    if _ERROR_MESSAGE.search(first):
        raise ExtractionError("http_5xx", f"{url} answered 200 with an error message ({first[:80]!r})")
    opening, second = map(_as_said, _opening_sentences(text.strip()))
    if taken := _place_taken([first, opening], second):
        kind, what, _text = taken
        raise ExtractionError(kind, f"{url} answered 200 with {what} ({first[:80]!r}), not the document")


def _opening_sentences(text: str) -> tuple[str, str]:
    """The first sentence of a short text, and its second ("" if not) when the first is a few words of the page's
    own ("Welcome to Acme.", "Acme GmbH") and the second is its last: a stub that is its name and what it is. A
    line ends a sentence. A second followed by more is a document's ("Last updated: …", "Coming soon.", a policy)."""
    said = [sentence for line in text.splitlines() if line.strip() for sentence in sentences(line.strip())
            if sentence.strip()]
    if len(said) == 2 and len(said[0]) <= _OPENER_CHARS:
        return said[0], said[1]
    return (said[0] if said else ""), ""


def _as_said(text: str) -> str:
    """A title or heading as the error patterns read it. Cut: an error page's title is short, and the patterns' gaps
    are not to be run over a hostile 100 kB one."""
    return text[:_TITLE_CHARS].replace("\u2019", "'")


_FRAME_TAG = re.compile(r"<i?frame\b", re.I)


def frame_in(roots: list, html: str) -> str | None:
    """The ``src`` of the first frame in ``roots`` (before cleaning drops it), looked for only in a page holding one."""
    if not _FRAME_TAG.search(html):
        return None
    for root in roots:
        if (frame := root.find(("iframe", "frame"), src=True)) is not None:
            return str(frame["src"])
    return None


def check_framed(frame: str | None, markdown: str, url: str) -> None:
    """Raise ``empty`` when what was kept is a few words beside a frame: the text is the frame's page (a policy
    embedded from a service, a frameset's ``noframes`` apology), and a heading alone became the version."""
    if frame is None or len(markdown.split()) >= _FRAMED_WORDS:
        return
    raise ExtractionError("empty", f"only {markdown.strip()[:40]!r} left after extraction of {url}: the text is in a "
                                   f"frame ({urljoin(url, frame)[:200]}); declare that URL")
