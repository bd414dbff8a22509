"""Persistence: SQLAlchemy 2 tables, the row ↔ value mapper, the repository and the migrations."""
