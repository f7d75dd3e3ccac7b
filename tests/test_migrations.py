"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import models  # noqa: F401


def test_migrated_schema_matches_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_dashboard_filters_are_indexed(engine):
    indexes = {tuple(ix["column_names"]) for ix in inspect(engine).get_indexes("complaint")}
    for columns in [("kind", "received_at"), ("agency_code", "received_at"), ("district_code", "received_at"),
                    ("channel", "received_at")]:
        assert columns in indexes


def test_reporter_data_is_not_in_the_complaint_table(engine):
    columns = {c["name"] for c in inspect(engine).get_columns("complaint")}
    assert not columns & {"name", "nik", "phone", "email", "address", "reporter_name"}
    assert {"nik", "phone", "email"} <= {c["name"] for c in inspect(engine).get_columns("reporter_contact")}
