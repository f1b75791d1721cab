"""Identity rules: links, aliases, first link wins, user ids never merged implicitly."""

from __future__ import annotations

from maumeter.core.identity import Conflict, IdentityGraph, IdKind, Merge


def test_anonymous_then_identified_is_one_person_keyed_by_user() -> None:
    g = IdentityGraph()
    a = g.actor(None, "anon-1")
    outcome = g.link("anon-1", "ada")
    assert isinstance(outcome, Merge) and outcome.absorbed == a
    assert g.key(a) == "ada" and g.is_identified(a)


def test_first_link_wins_and_conflicts_are_reported() -> None:
    g = IdentityGraph()
    g.link("anon-1", "ada")
    conflict = g.link("anon-1", "bob")
    assert conflict == Conflict("anon-1", claimed_by="bob", owner="ada")
    assert g.key(g.index(IdKind.ANONYMOUS, "anon-1")) == "ada"
    assert g.key(g.index(IdKind.USER, "bob")) == "bob"


def test_two_users_merge_only_by_alias_and_the_target_keeps_the_key() -> None:
    g = IdentityGraph()
    g.link("anon-1", "old")
    g.link("anon-2", "new")
    assert g.find(g.index(IdKind.USER, "old")) != g.find(g.index(IdKind.USER, "new"))
    assert isinstance(g.alias("old", "new")[0], Merge)
    assert g.key(g.index(IdKind.ANONYMOUS, "anon-1")) == "new"
    assert g.alias("old", "new") == []


def test_alias_holds_whichever_namespace_the_old_id_shows_up_in_later() -> None:
    g = IdentityGraph()
    g.alias("device-9", "ada")
    assert g.key(g.index(IdKind.ANONYMOUS, "device-9")) == "ada"
    assert g.key(g.index(IdKind.USER, "device-9")) == "ada"


def test_alias_of_an_anonymous_id_owned_by_another_user_conflicts() -> None:
    g = IdentityGraph()
    g.link("a", "u1")
    outcomes = g.alias("a", "u2")
    assert any(isinstance(o, Conflict) for o in outcomes)
    assert g.key(g.index(IdKind.ANONYMOUS, "a")) == "u1"


def test_same_string_in_both_namespaces_is_two_ids() -> None:
    g = IdentityGraph()
    assert g.index(IdKind.USER, "x") != g.index(IdKind.ANONYMOUS, "x")


def test_from_arrays_restores_persons() -> None:
    g = IdentityGraph()
    g.link("a", "u")
    g.link("b", "v")
    g.alias("u", "v")
    copy = IdentityGraph.from_arrays(g.values, bytes(g.kinds), g.parent)
    assert [copy.key(i) for i in range(len(copy))] == [g.key(i) for i in range(len(g))]
