"""Conversation state for the bot: which earlier question a message follows up on.

Scope: a private chat is one conversation; in a group each reply thread is one — a reply to
one of the bot's answers continues the state stored for that answer message, while a new
@mention or /ask starts afresh. States expire after ``CONVERSATION_TTL`` seconds without a
message (the clock is injectable for tests), ``/new`` clears them, and at most
``MAX_STATES`` are kept (least recently used dropped first). The resolution itself is
retrieval/dialogue; this module only keys, stores and sends.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType

from bot.telegram import render
from retrieval.dialogue import DialogueState, Turn, respond
from retrieval.service import NewsQA

MAX_STATES = 10_000
NEW_CONVERSATION = "好的，已开始新的对话，之前的问题不再作为上下文。"
Key = tuple[int, int]  # (chat id, 0) for a private chat; (chat id, bot message id) for a group thread


@dataclass(frozen=True)
class Reply:
    """A turn and the state to keep once its messages are sent."""

    turn: Turn
    state: DialogueState | None
    private: bool


def _private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE


def thread_key(message: Message) -> Key | None:
    """The conversation ``message`` continues: the private chat, or the bot answer it replies
    to in a group (None: a new thread)."""
    if _private(message):
        return (message.chat_id, 0)
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.is_bot:
        return (message.chat_id, replied.message_id)
    return None


class ConversationStore:
    """Thread-safe LRU map of conversation states; ``clock`` gives seconds (monotonic)."""

    def __init__(self, ttl: float, page: int, max_states: int = MAX_STATES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.page, self.max_states, self.clock = ttl, page, max_states, clock
        self._states: OrderedDict[Key, DialogueState] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._states)

    def get(self, key: Key | None) -> DialogueState | None:
        with self._lock:
            if key is None or key not in self._states:
                return None
            self._states.move_to_end(key)
            return self._states[key]

    def put(self, keys: Sequence[Key], state: DialogueState | None) -> None:
        with self._lock:
            for key in keys:
                if state is None:
                    self._states.pop(key, None)
                    continue
                self._states[key] = state
                self._states.move_to_end(key)
            while len(self._states) > self.max_states:
                self._states.popitem(last=False)

    def drop(self, key: Key | None) -> bool:
        with self._lock:
            return key is not None and self._states.pop(key, None) is not None

    def respond(self, service: NewsQA, message: Message, question: str) -> Reply:
        """Resolve and answer ``question`` in its conversation (call in a worker thread). A
        private chat's state is stored at once; a group thread's once the answer is sent
        (:meth:`remember`), under the ids of the bot's messages."""
        private = _private(message)
        page = 0 if private else self.page  # a private chat gets the whole list, as before
        index = service.index  # one version for both: a reindex may swap it meanwhile
        turn, state = respond(service, index.lexicon, self.get(thread_key(message)), question,
                              self.clock(), ttl=self.ttl, page=page, tagged=index.tokenizer.tagged)
        if private:
            self.put([(message.chat_id, 0)], state)
        return Reply(turn, state, private)

    def remember(self, reply: Reply, sent: Sequence[Message]) -> None:
        """After a group reply: its messages continue the thread."""
        if not reply.private and reply.state is not None:
            self.put([(m.chat_id, m.message_id) for m in sent], reply.state)


async def send_clarification(store: ConversationStore, message: Message, reply: Reply, quote: bool) -> None:
    """Ask back ("您问的是哪位？") instead of answering; a reply to it continues the thread."""
    sent = await message.reply_text(render.esc(reply.turn.text), do_quote=quote)
    store.remember(reply, [sent])


async def new_conversation(update: Update, context: Any) -> None:
    """/new: forget this chat's (or this reply thread's) conversation."""
    message = update.effective_message
    assert message is not None
    store: ConversationStore = context.bot_data.conversations
    await asyncio.to_thread(store.drop, thread_key(message))
    await message.reply_text(NEW_CONVERSATION, do_quote=not _private(message))
