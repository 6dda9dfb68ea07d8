"""The static site (SPEC §7): provision records, documents, platforms, clause types, feeds, search."""

from reports.site.builder import SiteBuilder, SiteReport, build

__all__ = ["SiteBuilder", "SiteReport", "build"]
