"""supervision ledger and reminder letters: a supervision record holds one or more issues (问题),
each with its responsible department, rectification, due date, answer and verdict; reminder
letters (提醒函) to departments about what is overdue

Revision ID: 16a0000000d1
Revises: 16a0000000c1
Create Date: 2026-12-05 21:30:00

Every existing record becomes one issue: its findings, rectification, due date, answer and
verdict move to the issue, whose department is the project's; its photos stay with the visit.
The downgrade puts them back, and refuses while a record holds more than one issue or a letter
exists, so nothing is lost silently.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '16a0000000d1'
down_revision = '16a0000000c1'
branch_labels = None
depends_on = None

MOVED = ('rectification', 'rectification_due', 'answer', 'answered_at', 'answered_by_name', 'settled', 'judged_at')


def upgrade():
    op.create_table('supervision_issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('rectification', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answered_by_name', sa.String(length=100), nullable=False),
    sa.Column('settled', sa.Boolean(), nullable=True),
    sa.Column('judged_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_supervision_issues_department_id_departments')),
    sa.ForeignKeyConstraint(['record_id'], ['supervision_records.id'], name=op.f('fk_supervision_issues_record_id_supervision_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_issues'))
    )
    with op.batch_alter_table('supervision_issues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_issues_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_issues_record_id'), ['record_id'], unique=False)
    op.execute(
        "INSERT INTO supervision_issues (record_id, department_id, problem, rectification, due_on, answer, answered_at, "
        "answered_by_name, settled, judged_at, created_at) "
        "SELECT r.id, p.department_id, r.findings, r.rectification, r.rectification_due, r.answer, r.answered_at, "
        "r.answered_by_name, r.settled, r.judged_at, r.created_at "
        "FROM supervision_records r JOIN projects p ON p.id = r.project_id ORDER BY r.id")
    with op.batch_alter_table('supervision_records', schema=None) as batch_op:
        for column in ('findings', *MOVED):
            batch_op.drop_column(column)

    op.create_table('reminder_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('subject_kind', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('subject_name', sa.Text(), nullable=False),
    sa.Column('asked', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('reply_by', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=60), nullable=False),
    sa.Column('issued_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_reminder_letters_department_id_departments')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_reminder_letters_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_letters')),
    sa.UniqueConstraint('subject_kind', 'subject_id', 'due_on', name=op.f('uq_reminder_letters_subject_kind_subject_id_due_on')),
    sa.UniqueConstraint('year', 'number', name=op.f('uq_reminder_letters_year_number'))
    )
    with op.batch_alter_table('reminder_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_letters_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_letters_project_id'), ['project_id'], unique=False)


def downgrade():
    bind = op.get_bind()
    letters = bind.execute(sa.text("SELECT COUNT(*) FROM reminder_letters")).scalar()
    if letters:
        raise RuntimeError(f"{letters} reminder letters exist; they cannot be kept by the earlier schema.")
    crowded = bind.execute(sa.text(
        "SELECT COUNT(*) FROM (SELECT record_id FROM supervision_issues GROUP BY record_id HAVING COUNT(*) > 1) AS c")).scalar()
    if crowded:
        raise RuntimeError(f"{crowded} supervision records hold more than one issue; the earlier schema keeps one per record.")
    op.drop_table('reminder_letters')
    with op.batch_alter_table('supervision_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('findings', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('rectification', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('rectification_due', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('answer', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('answered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('answered_by_name', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('settled', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('judged_at', sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE supervision_records SET "
        "findings = (SELECT i.problem FROM supervision_issues i WHERE i.record_id = supervision_records.id), "
        "rectification = (SELECT i.rectification FROM supervision_issues i WHERE i.record_id = supervision_records.id), "
        "rectification_due = (SELECT i.due_on FROM supervision_issues i WHERE i.record_id = supervision_records.id), "
        "answer = (SELECT i.answer FROM supervision_issues i WHERE i.record_id = supervision_records.id), "
        "answered_at = (SELECT i.answered_at FROM supervision_issues i WHERE i.record_id = supervision_records.id), "
        "answered_by_name = (SELECT i.answered_by_name FROM supervision_issues i WHERE i.record_id = supervision_records.id), "
        "settled = (SELECT i.settled FROM supervision_issues i WHERE i.record_id = supervision_records.id), "
        "judged_at = (SELECT i.judged_at FROM supervision_issues i WHERE i.record_id = supervision_records.id) "
        "WHERE EXISTS (SELECT 1 FROM supervision_issues i WHERE i.record_id = supervision_records.id)")
    with op.batch_alter_table('supervision_records', schema=None) as batch_op:
        for column in ('findings', 'rectification', 'answer', 'answered_by_name'):
            batch_op.alter_column(column, server_default=None)
    op.drop_table('supervision_issues')
