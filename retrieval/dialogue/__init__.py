"""Follow-up questions in a conversation: state, pure resolution, and one turn of a session."""

from retrieval.dialogue.resolve import Resolution, resolve
from retrieval.dialogue.session import DEFAULT_TTL, Conversation, Turn, list_page, respond
from retrieval.dialogue.state import DialogueState, next_state

__all__ = ["DEFAULT_TTL", "Conversation", "DialogueState", "Resolution", "Turn", "list_page", "next_state",
           "resolve", "respond"]
