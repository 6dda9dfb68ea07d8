"""The spiders of clausewatch."""
