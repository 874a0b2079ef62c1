"""Claims list, events feed, first answers for claims and forms.

- ``share_claims`` gets a ``(column, id)`` index for each filter of the claims list, and the
  tallies count every claim (``('claims', '')``, kept by triggers on ``share_claims``), so the
  claims list's total is exact at any size.
- ``audit_events`` keeps the claim a claim event made (``claim_id``), gets ``(share_id, id)`` and
  ``(action, id)`` indexes for the events feed, and its share events are rewritten in the
  feed's form: values as the Share object shows them (a create lists every field it had, with
  ``id``, ``source`` and the creation instant; a claim's changes are the share's).
- ``idempotency_keys`` keys first answers by scope (``token:<id>``, ``staff:<id>``) and route, so
  API claims and pages' one-time form ids keep first answers too.

The SQL and the rewrite are written out here as they ran: a migration is history, and must
not change when the app's code does.

Revision ID: 99add1d2e074
Revises: 8c1e4b7d2a90
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '99add1d2e074'
down_revision = '8c1e4b7d2a90'
branch_labels = None
depends_on = None

CLAIM_TALLY = (
    "INSERT INTO share_tallies (dimension, value, shares) VALUES ('claims', '', {sign})"
    " ON CONFLICT (dimension, value) DO UPDATE SET shares = share_tallies.shares + excluded.shares"
)
TRIGGERS = {
    'sqlite': [
        'CREATE TRIGGER IF NOT EXISTS share_claim_tallies_insert AFTER INSERT ON share_claims'
        ' FOR EACH ROW BEGIN ' + CLAIM_TALLY.format(sign=1) + '; END',
        'CREATE TRIGGER IF NOT EXISTS share_claim_tallies_delete AFTER DELETE ON share_claims'
        ' FOR EACH ROW BEGIN ' + CLAIM_TALLY.format(sign=-1) + '; END',
    ],
    'postgresql': [
        'CREATE OR REPLACE FUNCTION share_claim_tallies_follow() RETURNS trigger LANGUAGE plpgsql'
        " AS $$ BEGIN IF TG_OP = 'INSERT' THEN " + CLAIM_TALLY.format(sign=1) + ';'
        " ELSIF TG_OP = 'DELETE' THEN " + CLAIM_TALLY.format(sign=-1) + ';'
        ' END IF; RETURN NULL; END $$',
        'CREATE OR REPLACE TRIGGER share_claim_tallies_follow AFTER INSERT OR DELETE ON share_claims'
        ' FOR EACH ROW EXECUTE FUNCTION share_claim_tallies_follow()',
    ],
}
DROP_TRIGGERS = {
    'sqlite': [
        'DROP TRIGGER IF EXISTS share_claim_tallies_insert',
        'DROP TRIGGER IF EXISTS share_claim_tallies_delete',
    ],
    'postgresql': [
        'DROP TRIGGER IF EXISTS share_claim_tallies_follow ON share_claims',
        'DROP FUNCTION IF EXISTS share_claim_tallies_follow()',
    ],
}
#: The Share object's fields, in the contract's order (2026-12-01).
SHARE_OBJECT = (
    'id', 'profile_id', 'source_type', 'source_id', 'handle', 'code', 'timezone', 'period',
    'period_type', 'absolute_expiry', 'expires_at', 'quantity', 'remaining_quantity', 'meta',
    'is_cloneable', 'source', 'created_at', 'updated_at',
)
#: What the feed adds to a create or delete event recorded before it.
ADDED = ('id', 'source', 'created_at', 'updated_at')

events = sa.table(
    'audit_events',
    sa.column('id', sa.Integer),
    sa.column('at', sa.DateTime),
    sa.column('action', sa.String),
    sa.column('share_id', sa.Integer),
    sa.column('claim_id', sa.Integer),
    sa.column('changes', sa.JSON),
)
claims = sa.table('share_claims', sa.column('id', sa.Integer), sa.column('profile_id', sa.String))


def _z(instant):
    return instant.strftime('%Y-%m-%dT%H:%M:%SZ')


def _in_feed_form(event):
    """(claim_id, changes) of an event recorded before the feed, as the feed records them."""
    changes = dict(event.changes or {})
    if event.action == 'claim':
        claim = changes.pop('claim_id', [None, None])[1]
        changes.pop('claimer_profile_id', None)
        left = changes.get('remaining_quantity')
        return claim, ({'remaining_quantity': left} if left and left[0] != left[1] else {})
    new = 1 if event.action == 'create' else 0
    value = {'id': event.share_id}
    source_type, source_id = changes.get('source_type'), changes.get('source_id')
    if source_type and source_id:
        value['source'] = {'type': source_type[new], 'id': source_id[new]}
    if event.action == 'create':
        value['created_at'] = value['updated_at'] = _z(event.at)
    for name, known in value.items():
        changes[name] = [None, known] if new else [known, None]
    return None, {name: changes[name] for name in SHARE_OBJECT if name in changes}


def _from_feed_form(connection, event):
    """The changes of ``event`` as recorded before the feed (for a downgrade)."""
    changes = dict(event.changes or {})
    if event.action == 'claim':
        claimer = connection.execute(
            sa.select(claims.c.profile_id).where(claims.c.id == event.claim_id)
        ).scalar()
        left = changes.get('remaining_quantity') or [None, None]
        return {
            'claim_id': [None, event.claim_id],
            'claimer_profile_id': [None, claimer],
            'remaining_quantity': left,
        }
    return {name: pair for name, pair in changes.items() if name not in ADDED}


def _rewrite(connection, convert):
    """Each create, claim and delete event through ``convert``, a thousand at a time."""
    last = 0
    while True:
        batch = connection.execute(
            sa.select(events)
            .where(events.c.id > last, events.c.action.in_(['create', 'claim', 'delete']))
            .order_by(events.c.id)
            .limit(1000)
        ).all()
        if not batch:
            return
        for event in batch:
            connection.execute(
                events.update().where(events.c.id == event.id).values(**convert(event))
            )
        last = batch[-1].id


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_id', sa.Integer(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))
        batch_op.drop_index(batch_op.f('ix_audit_events_share_id'))
        batch_op.create_index('ix_audit_events_action_id', ['action', 'id'], unique=False)
        batch_op.create_index('ix_audit_events_share_id_id', ['share_id', 'id'], unique=False)

    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('route', sa.String(length=60), nullable=True))
    op.execute(
        "UPDATE idempotency_keys SET scope = 'token:' || CAST(token_id AS VARCHAR(20)),"
        " route = 'addShare'"
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.alter_column('scope', existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column('route', existing_type=sa.String(length=60), nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_idempotency_keys_token_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_idempotency_keys_scope'), ['scope', 'route', 'key'])
        batch_op.drop_column('token_id')

    with op.batch_alter_table('share_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_share_claims_profile_id'))
        batch_op.drop_index(batch_op.f('ix_share_claims_share_id'))
        batch_op.create_index('ix_share_claims_claimed_at_id', ['claimed_at', 'id'], unique=False)
        batch_op.create_index('ix_share_claims_profile_id_id', ['profile_id', 'id'], unique=False)
        batch_op.create_index('ix_share_claims_share_handle_id', ['share_handle', 'id'], unique=False)
        batch_op.create_index('ix_share_claims_share_id_id', ['share_id', 'id'], unique=False)
        batch_op.create_index('ix_share_claims_share_profile_id_id', ['share_profile_id', 'id'], unique=False)

    connection = op.get_bind()
    for statement in TRIGGERS[connection.dialect.name]:
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql(
        "INSERT INTO share_tallies (dimension, value, shares)"
        " SELECT 'claims', '', count(*) FROM share_claims"
    )

    def convert(event):
        claim_id, changes = _in_feed_form(event)
        return {'claim_id': claim_id, 'changes': changes}

    _rewrite(connection, convert)


def downgrade():
    connection = op.get_bind()
    _rewrite(connection, lambda event: {'changes': _from_feed_form(connection, event)})
    for statement in DROP_TRIGGERS[connection.dialect.name]:
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql("DELETE FROM share_tallies WHERE dimension = 'claims'")

    with op.batch_alter_table('share_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_share_claims_share_profile_id_id')
        batch_op.drop_index('ix_share_claims_share_id_id')
        batch_op.drop_index('ix_share_claims_share_handle_id')
        batch_op.drop_index('ix_share_claims_profile_id_id')
        batch_op.drop_index('ix_share_claims_claimed_at_id')
        batch_op.create_index(batch_op.f('ix_share_claims_share_id'), ['share_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_share_claims_profile_id'), ['profile_id'], unique=False)

    # Keys of pages' forms, and of claims, had no place before this revision.
    op.execute("DELETE FROM idempotency_keys WHERE route <> 'addShare' OR scope NOT LIKE 'token:%'")
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_id', sa.INTEGER(), nullable=True))
    op.execute(
        "UPDATE idempotency_keys SET token_id = CAST(substr(scope, 7) AS INTEGER)"
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.alter_column('token_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_idempotency_keys_scope'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_idempotency_keys_token_id'), ['token_id', 'key'])
        batch_op.drop_column('route')
        batch_op.drop_column('scope')

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_share_id_id')
        batch_op.drop_index('ix_audit_events_action_id')
        batch_op.create_index(batch_op.f('ix_audit_events_share_id'), ['share_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.drop_column('claim_id')
