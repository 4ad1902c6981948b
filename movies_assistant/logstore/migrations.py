"""Numbered schema migrations, shared by SQLite and PostgreSQL.

Append new migrations; never edit or reorder applied ones. `{pk}`, `{ts}` and `{json}` are filled
with each database's type names. Applied versions are recorded in `schema_migrations`.
"""

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "conversations and feedback",
        [
            """CREATE TABLE conversations (
                id TEXT PRIMARY KEY,
                conversation_id TEXT NOT NULL,
                turn INTEGER NOT NULL,
                question TEXT NOT NULL,
                answer TEXT NOT NULL,
                model_used TEXT NOT NULL,
                response_time DOUBLE PRECISION NOT NULL,
                retrieval_time DOUBLE PRECISION NOT NULL DEFAULT 0,
                prompt_tokens INTEGER NOT NULL DEFAULT 0,
                completion_tokens INTEGER NOT NULL DEFAULT 0,
                total_tokens INTEGER NOT NULL DEFAULT 0,
                relevance TEXT NOT NULL DEFAULT 'UNJUDGED',
                relevance_explanation TEXT NOT NULL DEFAULT '',
                judge_model TEXT NOT NULL DEFAULT '',
                eval_prompt_tokens INTEGER NOT NULL DEFAULT 0,
                eval_completion_tokens INTEGER NOT NULL DEFAULT 0,
                eval_total_tokens INTEGER NOT NULL DEFAULT 0,
                sources {json} NOT NULL DEFAULT '[]',
                timestamp {ts} NOT NULL
            )""",
            "CREATE INDEX conversations_conversation_id ON conversations (conversation_id, turn)",
            "CREATE INDEX conversations_timestamp ON conversations (timestamp)",
            """CREATE TABLE feedback (
                id {pk},
                conversation_id TEXT NOT NULL,
                answer_id TEXT NOT NULL REFERENCES conversations (id),
                feedback INTEGER NOT NULL CHECK (feedback IN (-1, 1)),
                timestamp {ts} NOT NULL
            )""",
            "CREATE INDEX feedback_conversation_id ON feedback (conversation_id)",
        ],
    ),
    (
        2,
        "answer cost, time to first token and generation time",
        [
            "ALTER TABLE conversations ADD COLUMN cost DOUBLE PRECISION NOT NULL DEFAULT 0",
            "ALTER TABLE conversations ADD COLUMN time_to_first_token DOUBLE PRECISION NOT NULL DEFAULT 0",
            "ALTER TABLE conversations ADD COLUMN generation_time DOUBLE PRECISION NOT NULL DEFAULT 0",
        ],
    ),
    (
        3,
        "grounding check and conversation state",
        [
            # JSON: {"grounded": bool, "unknown_titles": [...], "mentioned_ids": [...], "repaired": bool, ...}
            "ALTER TABLE conversations ADD COLUMN grounding TEXT NOT NULL DEFAULT ''",
            # JSON: the turn's understanding (intent, filters, person, subject, excluded films) for follow-ups
            "ALTER TABLE conversations ADD COLUMN understanding TEXT NOT NULL DEFAULT ''",
        ],
    ),
    (
        4,
        "feedback ids, so a feedback replayed from the spool is stored once",
        [
            # NULL for feedback logged before; a unique index allows many NULLs in both databases
            "ALTER TABLE feedback ADD COLUMN uid TEXT",
            "CREATE UNIQUE INDEX feedback_uid ON feedback (uid)",
        ],
    ),
    (
        5,
        "unique turns: duplicate turns of a conversation renumbered in order, then (conversation_id, turn) unique",
        [
            # only conversations that have a duplicate turn are renumbered: 1, 2, 2, 3 becomes 1, 2, 3, 4
            """CREATE TEMPORARY TABLE turn_renumbering AS
                SELECT id, ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY turn, timestamp, id) AS new_turn
                FROM conversations
                WHERE conversation_id IN (
                    SELECT conversation_id FROM conversations GROUP BY conversation_id, turn HAVING COUNT(*) > 1
                )""",
            """UPDATE conversations
                SET turn = (SELECT new_turn FROM turn_renumbering WHERE turn_renumbering.id = conversations.id)
                WHERE id IN (SELECT id FROM turn_renumbering)""",
            "DROP TABLE turn_renumbering",
            "DROP INDEX conversations_conversation_id",
            "CREATE UNIQUE INDEX conversations_turn ON conversations (conversation_id, turn)",
        ],
    ),
]
