"""Accounts: people (argon2id passwords, roles, site scope), their sessions, key lifecycle
(expiry, last use, site scope, display tokens) and the one append-only audit trail.

Revision ID: 0005_accounts
Revises: 0006_hardening
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0005_accounts"
down_revision = "0006_hardening"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
ROLES = ("ingest", "viewer", "engineer", "manager", "admin", "auditor")
OLD_ROLES = ROLES[:-1]

# The audit trail is never rewritten: UPDATE, DELETE and TRUNCATE are refused unless a
# maintenance transaction says ``SET LOCAL ecc.audit_purge = 'on'`` (retention).
APPEND_ONLY_FN = """
CREATE FUNCTION ecc_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('ecc.audit_purge', true), '') = 'on' THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$
"""


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.drop_constraint("role", "api_key", type_="check")
    op.create_check_constraint("role", "api_key", _in("role", ROLES))
    op.add_column("api_key", sa.Column("expires_at", TZ))
    op.add_column("api_key", sa.Column("last_used_at", TZ))
    op.add_column("api_key", sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id")))
    op.add_column("api_key", sa.Column("kind", sa.String(16), nullable=False, server_default="key"))
    op.create_check_constraint("kind", "api_key", "kind IN ('key', 'display')")

    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("login", sa.String(100), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("roles", ARRAY(sa.String(16)), nullable=False),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id")),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("provider", sa.String(200), nullable=False, server_default="local"),
        sa.Column("subject", sa.String(200)),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", TZ),
        sa.Column("last_login_at", TZ),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            f"roles <@ ARRAY[{', '.join(repr(r) for r in ROLES)}]::varchar[] "
            "AND cardinality(roles) > 0",
            name="roles",
        ),
        sa.UniqueConstraint("provider", "subject", name="uq_app_user_provider_subject"),
    )
    op.create_table(
        "user_session",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("app_user.id"), nullable=False, index=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("ended_at", TZ),
        sa.Column("client", sa.String(100)),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", TZ, nullable=False, server_default=sa.func.now(), index=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("actor_login", sa.String(100)),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False, index=True),
        sa.Column("entity_id", sa.String(200)),
        sa.Column("site_id", sa.Integer),
        sa.Column("before", JSONB),
        sa.Column("after", JSONB),
        sa.Column("request_id", sa.String(64)),
        sa.Column("method", sa.String(8)),
        sa.Column("path", sa.Text),
    )
    op.execute(APPEND_ONLY_FN)
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION ecc_audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION ecc_audit_append_only()"
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION ecc_audit_append_only()")
    op.drop_table("user_session")
    op.drop_table("app_user")
    op.drop_constraint("kind", "api_key", type_="check")
    for column in ("kind", "site_id", "last_used_at", "expires_at"):
        op.drop_column("api_key", column)
    op.execute("DELETE FROM api_key WHERE role = 'auditor'")
    op.drop_constraint("role", "api_key", type_="check")
    op.create_check_constraint("role", "api_key", _in("role", OLD_ROLES))
