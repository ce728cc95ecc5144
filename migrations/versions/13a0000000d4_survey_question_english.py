"""survey questions carry an English text; the built-in template's questions get theirs

Revision ID: 13a0000000d4
Revises: d4f6b8c0e2a4
Create Date: 2026-12-03 18:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '13a0000000d4'
down_revision = 'd4f6b8c0e2a4'
branch_labels = None
depends_on = None

# The satisfaction template as it stood when this revision was written (surveys/service.py):
# Chinese prompt -> (English prompt, {Chinese option: English option}).
TEMPLATE_ENGLISH = {
    "您对这个项目总体满意吗？": ("Overall, are you satisfied with this project?", {}),
    "项目给您的生活带来了哪些变化？": (
        "What has the project changed in your daily life?",
        {"明显改善": "Clearly better", "有所改善": "Somewhat better", "没有变化": "No change", "变差了": "Worse"},
    ),
    "请为施工或运营期间的安全和文明程度打分（1分最低，5分最高）": (
        "Rate how safe and orderly the works or the operation are (1 lowest, 5 highest)", {}),
    "您还有什么意见或建议？": ("Any other comments or suggestions?", {}),
}


def upgrade():
    with op.batch_alter_table('survey_questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prompt_en', sa.String(length=500), server_default='', nullable=False))
    questions = sa.table(
        'survey_questions',
        sa.column('id', sa.Integer),
        sa.column('prompt', sa.String),
        sa.column('prompt_en', sa.String),
        sa.column('options', sa.JSON),
    )
    connection = op.get_bind()
    for prompt, (english, option_english) in TEMPLATE_ENGLISH.items():
        rows = connection.execute(sa.select(questions.c.id, questions.c.options).where(questions.c.prompt == prompt)).all()
        for question_id, options in rows:
            translated = [
                {**option, "label_en": option_english[option["label"]]} if option.get("label") in option_english else option
                for option in options or []
            ]
            connection.execute(
                questions.update().where(questions.c.id == question_id).values(prompt_en=english, options=translated)
            )


def downgrade():
    with op.batch_alter_table('survey_questions', schema=None) as batch_op:
        batch_op.drop_column('prompt_en')
