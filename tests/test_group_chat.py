"""The bot added to a family's group: whatever is written or pressed there gets one kind
line, "write to me in private", and nothing else happens (no questionnaire in public, no
row stored). Through the real Dispatcher and the Bot API stand-in."""

from __future__ import annotations

from typing import Any

from tests.botapi import Family
from tests.test_bot_conversation import Session
from tests.test_bot_dossier import TODAY

GROUP = -1001234567
LINE = "Scrivetemi in privato: qui le vostre risposte le vedrebbero tutti."


class InAGroup(Family):
    """A member of a supergroup the bot was added to."""

    def _message(self, **content: Any) -> dict[str, Any]:
        update = super()._message(**content)
        update["message"]["chat"] = {"id": GROUP, "type": "supergroup", "title": "Famiglia"}
        return update

    def new_texts(self) -> list[str]:
        calls = self.api.sent(GROUP)
        texts = [c.params["text"] for c in calls[self.seen :]]
        self.seen = len(calls)
        return texts


def rows_about(s: Session, user_id: int) -> dict[str, int]:
    counts = {
        "users": "SELECT COUNT(*) FROM users WHERE user_id = ?",
        "fsm": "SELECT COUNT(*) FROM fsm WHERE key LIKE '%' || ? || '%'",
        "dossiers": "SELECT COUNT(*) FROM dossiers WHERE user_id = ?",
    }
    return {table: s.db.execute(sql, [user_id]).fetchone()[0] for table, sql in counts.items()}


async def test_in_a_group_the_bot_only_asks_to_be_written_to_in_private(api, db_path):
    s = Session(api, db_path, TODAY, user_id=8101)
    member = InAGroup(api, s.bot, s.dp, user_id=8101)
    for text in ("/start", "/start@sportello_b2_bot", "Rozzano", "/cancella_dati", "/documenti"):
        assert await member.say(text) == [LINE], text
    member.user["language_code"] = "en"  # in the member's own language
    english = await member.say("/start")
    assert len(english) == 1 and english[0] != LINE and "private" in english[0].lower()
    assert rows_about(s, 8101) == {"users": 0, "fsm": 0, "dossiers": 0}
    assert api.sent(8101) == []  # nothing in the member's private chat either
    await s.close()


async def test_a_button_pressed_in_a_group_gets_the_same_line_and_changes_nothing(api, db_path):
    s = Session(api, db_path, TODAY)
    await s.family.say("/start")  # a family in private, the languages on screen
    keyboard = api.last_keyboard_message(4242)
    assert keyboard is not None
    before = rows_about(s, 4242)
    seen_private = len(api.sent(4242))
    member = InAGroup(api, s.bot, s.dp, user_id=8102)
    data = keyboard["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    shown_in_group = {**keyboard, "chat": {"id": GROUP, "type": "supergroup", "title": "F"}}
    calls = len(api.calls)
    await member.feed(
        {
            "update_id": 990001,
            "callback_query": {
                "id": "77",
                "from": member.user,
                "chat_instance": "g",
                "message": shown_in_group,
                "data": data,
            },
        }
    )
    answers = [c for c in api.calls[calls:] if c.method == "answerCallbackQuery"]
    assert [a.params.get("text") for a in answers] == [LINE]
    assert str(answers[0].params.get("show_alert")).lower() == "true"
    assert [c.method for c in api.calls[calls:]] == ["answerCallbackQuery"]  # nothing else
    assert len(api.sent(4242)) == seen_private and rows_about(s, 4242) == before
    assert rows_about(s, 8102) == {"users": 0, "fsm": 0, "dossiers": 0}
    await s.close()
