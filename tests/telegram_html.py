"""Parser/validator for Telegram's ``parse_mode=HTML`` subset, modelled on TDLib's ``parse_html``.

Error messages follow TDLib's wording (``Unsupported start tag "br" at byte offset 5`` ...); the
Bot API server prefixes them with ``Bad Request: can't parse entities:``.

``strict=True`` (the default) additionally enforces the *documented* rules that real Telegram
silently tolerates, because violating them means our escaping is broken:

* every ``&`` must start ``&lt;``, ``&gt;``, ``&amp;``, ``&quot;`` or a numeric ``&#...;``/``&#x...;``
  reference terminated by ``;`` (Telegram would show an unknown ``&nbsp;`` or a bare ``&`` verbatim);
* a bare ``>`` outside of a tag is rejected (Telegram shows it verbatim);
* entities that Telegram cannot nest (anything inside ``code``/``pre`` except ``<pre><code>``,
  links inside links, blockquotes inside blockquotes) are rejected instead of silently dropped.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "MAX_MESSAGE_LENGTH",
    "TelegramHtmlError",
    "parse_telegram_html",
    "utf16_len",
    "validate_telegram_html",
]

MAX_MESSAGE_LENGTH = 4096  # UTF-16 code units, after entity parsing
_SPACES = " \t\r\n\v\f\0"
_KINDS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "span": "spoiler", "tg-spoiler": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,7})|([a-zA-Z]+))(;?)")


class TelegramHtmlError(ValueError):
    """Raised for text that Telegram would reject (or, in strict mode, mis-render)."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram uses for limits and offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(text: str, pos: int) -> int:
    return len(text[:pos].encode("utf-8", "surrogatepass"))


def _decode_entity(text: str, pos: int, strict: bool) -> tuple[str, int]:
    """Decode the character reference starting at ``text[pos] == "&"``; return (char, end)."""
    m = _ENTITY_RE.match(text, pos)
    char = None
    if m and m.group(3) is not None:
        char = _NAMED.get(m.group(3))
    elif m:
        code = int(m.group(1), 10) if m.group(1) is not None else int(m.group(2), 16)
        if 0 < code < 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            char = chr(code)
    if char is not None and m is not None and (m.group(4) or not strict):
        return char, m.end()
    if strict:
        raise TelegramHtmlError(
            f'Unescaped "&" or unsupported HTML entity at byte offset {_byte_offset(text, pos)}'
        )
    return "&", pos + 1


def parse_telegram_html(text: str, *, strict: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into ``(plain_text, entities)`` (Bot API MessageEntity dicts).

    Raises:
        TelegramHtmlError: if Telegram would answer "can't parse entities" (or strict rules fail).
    """
    out: list[str] = []
    pos16 = 0  # UTF-16 length of ``out``
    stack: list[dict[str, Any]] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(text)

    def err(msg: str, at: int) -> TelegramHtmlError:
        return TelegramHtmlError(f"{msg} at byte offset {_byte_offset(text, at)}")

    while i < n:
        c = text[i]
        if c != "<":
            if c == "&":
                c, i = _decode_entity(text, i, strict)
            else:
                if c == ">" and strict:
                    raise err('Unescaped ">"', i)
                i += 1
            out.append(c)
            pos16 += utf16_len(c)
            continue
        begin = i
        if text.startswith("</", i):  # ---- end tag
            j = i + 2
            while j < n and text[j] not in _SPACES and text[j] != ">":
                j += 1
            end_name = text[i + 2 : j].lower()
            while j < n and text[j] in _SPACES:
                j += 1
            if j >= n or text[j] != ">":
                raise err("Unclosed end tag", begin)
            if not stack:
                raise err("Unexpected end tag", begin)
            i = j + 1
            tag = stack.pop()
            if end_name and end_name != tag["name"]:
                raise err(
                    f'Unmatched end tag, expected "</{tag["name"]}>", found "</{end_name}>"', begin
                )
            _close(tag, stack, entities, "".join(out), pos16)
            continue
        j = i + 1  # ---- start tag
        while j < n and text[j] not in _SPACES and text[j] != ">":
            j += 1
        if j >= n:
            raise err("Unclosed start tag", begin)
        name = text[i + 1 : j].lower()
        if name not in _KINDS:
            raise err(f'Unsupported start tag "{name}"', begin)
        attrs, i = _parse_attributes(text, j, name, begin, strict, err)
        tag = {"name": name, "kind": _KINDS[name], "start": pos16, "attrs": attrs}
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise err('Tag "span" must have class "tg-spoiler"', begin)
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise err('Tag "tg-emoji" must have a numeric attribute "emoji-id"', begin)
        if name == "blockquote" and "expandable" in attrs:
            tag["kind"] = "expandable_blockquote"
        if strict and stack:
            _check_nesting(tag, stack, begin, err)
        stack.append(tag)
    if stack:
        raise TelegramHtmlError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1]["name"]}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _parse_attributes(
    text: str, i: int, name: str, begin: int, strict: bool, err: Any
) -> tuple[dict[str, str], int]:
    """Parse attributes from ``text[i]`` up to and including ``>``; return (attrs, next index)."""
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while i < n and text[i] in _SPACES:
            i += 1
        if i >= n:
            raise err("Unclosed start tag", begin)
        if text[i] == ">":
            return attrs, i + 1
        a0 = i
        while i < n and text[i] not in _SPACES and text[i] not in "=>":
            i += 1
        attr = text[a0:i].lower()
        while i < n and text[i] in _SPACES:
            i += 1
        if i >= n:
            raise err("Unclosed start tag", begin)
        if text[i] != "=":
            if name == "blockquote" and attr == "expandable":
                attrs[attr] = ""
                continue
            raise err(f'Expected equal sign in declaration of an attribute of the tag "{name}"', begin)
        i += 1
        while i < n and text[i] in _SPACES:
            i += 1
        if i >= n:
            raise err("Unclosed start tag", begin)
        value: list[str] = []
        if text[i] in "'\"":
            quote = text[i]
            i += 1
            while i < n and text[i] != quote:
                if text[i] == "&":
                    ch, i = _decode_entity(text, i, strict)
                    value.append(ch)
                else:
                    value.append(text[i])
                    i += 1
            if i >= n:
                raise err("Unclosed start tag", begin)
            i += 1
        else:
            v0 = i
            while i < n and ((text[i].isascii() and text[i].isalnum()) or text[i] in ".-"):
                i += 1
            if i >= n or (text[i] not in _SPACES and text[i] != ">"):
                raise err("Unexpected end of name token", v0)
            value.append(text[v0:i].lower())
        attrs[attr] = "".join(value)


def _check_nesting(tag: dict[str, Any], stack: list[dict[str, Any]], begin: int, err: Any) -> None:
    """Strict mode: reject nestings Telegram silently drops."""
    kind, top = tag["kind"], stack[-1]
    for parent in stack:
        pk = parent["kind"]
        if pk in ("code", "pre") and not (pk == "pre" and parent is top and kind == "code"):
            raise err(f'Tag "{tag["name"]}" can\'t be nested inside "{parent["name"]}"', begin)
        if pk == kind == "text_link" or ("blockquote" in pk and "blockquote" in kind):
            raise err(f'Tag "{tag["name"]}" can\'t be nested inside "{parent["name"]}"', begin)


def _close(
    tag: dict[str, Any],
    stack: list[dict[str, Any]],
    entities: list[dict[str, Any]],
    plain: str,
    pos16: int,
) -> None:
    """Turn a closed tag into a MessageEntity dict (empty entities are dropped like Telegram)."""
    kind, attrs, start = tag["kind"], tag["attrs"], tag["start"]
    if kind == "code" and stack and stack[-1]["kind"] == "pre":
        lang = attrs.get("class", "")
        if lang.startswith("language-") and len(lang) > 9:
            stack[-1]["language"] = lang[9:]
        return
    if pos16 == start:
        return
    entity: dict[str, Any] = {"type": kind, "offset": start, "length": pos16 - start}
    if kind == "text_link":
        inner = plain.encode("utf-16-le", "surrogatepass")[2 * start :].decode(
            "utf-16-le", "surrogatepass"
        )
        entity["url"] = attrs.get("href") or inner
    elif kind == "pre" and tag.get("language"):
        entity["language"] = tag["language"]
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = attrs["emoji-id"]
    entities.append(entity)


def validate_telegram_html(text: str, *, strict: bool = True) -> str | None:
    """Return Telegram's parse error for ``text`` sent with ``parse_mode=HTML``, or ``None``.

    Checks only entity parsing (not the 4096-character message limit; see ``utf16_len`` and
    ``MAX_MESSAGE_LENGTH``). With ``strict=False`` only what real Telegram rejects is reported.
    """
    try:
        parse_telegram_html(text, strict=strict)
    except TelegramHtmlError as exc:
        return str(exc)
    return None
