"""What a page says after a form did its work is worded from one catalogue of notes, never written in a view."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cellchain.core.words import notes, reasons

PACKAGE = Path(__file__).resolve().parents[2] / "cellchain"


def _calls(name: str) -> list[tuple[str, int, ast.Call]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name:
                found.append((str(path.relative_to(PACKAGE)), node.lineno, node))
    return found


def test_every_note_a_view_gives_has_its_words_with_every_value():
    said = [(where, line, call.args[0].value, {k.arg for k in call.keywords})
            for where, line, call in _calls("note") if call.args and isinstance(call.args[0], ast.Constant)]
    assert len(said) > 60
    assert [(w, line, key) for w, line, key, _ in said if key not in notes.NOTES] == []
    assert [(w, line, key) for w, line, key, given in said
            if reasons.placeholders(notes.NOTES[key]) - given] == []


def test_no_view_flashes_a_sentence_written_in_place():
    written = [(where, line) for where, line, call in _calls("flash")
               if call.args and isinstance(call.args[0], ast.JoinedStr | ast.Constant | ast.BinOp)]
    assert written == []


def test_the_notes_are_literal_templates_a_translator_can_read(monkeypatch):
    for key, template in notes.NOTES.items():
        assert isinstance(template, str) and template.strip(), key
        assert all(name.isidentifier() for name in reasons.placeholders(template)), key
    moved = notes.note("deviation_moved", number="DEV-1", status="investigated")
    assert moved == "Deviation DEV-1 is now investigated."
    monkeypatch.setitem(notes.NOTES, "hold_lifted", "Sperre {hold_id} aufgehoben.")
    assert notes.note("hold_lifted", hold_id=3) == "Sperre 3 aufgehoben."
    with pytest.raises(KeyError):
        notes.note("hold_lifted")
    assert notes.notes("One.", "", "Two.") == "One. Two."


def test_a_flashed_note_reaches_the_page(client, auth):
    auth.login("lab")
    assert "Welcome, " in client.get("/").get_data(as_text=True)
    auth.logout()
    assert "You are logged out." in client.get("/auth/login").get_data(as_text=True)
