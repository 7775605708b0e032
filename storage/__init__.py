"""Everything that touches SQLite lives here."""
