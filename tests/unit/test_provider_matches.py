"""The resolver's candidates: newest first, packaging's pre-release rule, yanked only when pinned, built lazily."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from lading.resolve.lock import LockProvider
from lading.resolve.provider import Candidate, Offer, Provider, Requirement

NAME = NormalizedName("demo")


class _Offers(Sequence[Offer]):
    """Offers newest first, counting how many were looked at."""

    def __init__(self, versions: Sequence[tuple[str, bool]]) -> None:
        self._offers = [_offer(v, yanked) for v, yanked in versions]
        self.read = 0

    def __len__(self) -> int:
        return len(self._offers)

    def __getitem__(self, at: Any) -> Any:
        return self._offers[at]

    def __iter__(self) -> Iterator[Offer]:
        for offer in self._offers:
            self.read += 1
            yield offer


def _offer(version: str, yanked: bool) -> Offer:
    def never() -> Any:
        raise AssertionError("the file is not needed to choose")

    return Offer(NAME, Version(version), never, "https://index.invalid/simple", yanked=yanked)


class _Finder:
    def __init__(self, offers: _Offers) -> None:
        self._offers = offers

    def offers(self, name: str) -> _Offers:
        assert name == NAME
        return self._offers


def _matches(provider: Provider, *specifiers: str, excluded: Sequence[str] = (), extras: frozenset[str] = frozenset()
             ) -> list[str]:
    requirements = [Requirement(NAME, SpecifierSet(s), frozenset(NormalizedName(e) for e in extras))
                    for s in specifiers]
    identifier = requirements[0].identifier
    bad = [Candidate(_offer(v, False)) for v in excluded]
    found = provider.find_matches(identifier, {identifier: iter(requirements)}, {identifier: iter(bad)})
    return [str(c.version) for c in found()]


RELEASES = (("3.0rc1", False), ("2.1", False), ("2.0", True), ("1.5", False), ("1.0", False), ("0.9b1", False))


@pytest.fixture
def offers() -> _Offers:
    return _Offers(RELEASES)


def _provider(offers: _Offers) -> Provider:
    return Provider(_Finder(offers), None, {})  # type: ignore[arg-type]


def test_candidates_are_newest_first_without_yanked_or_pre_releases(offers: _Offers) -> None:
    assert _matches(_provider(offers), ">=1") == ["2.1", "1.5", "1.0"]


def test_a_yanked_release_is_a_candidate_when_pinned(offers: _Offers) -> None:
    assert _matches(_provider(offers), "==2.0") == ["2.0"]


def test_pre_releases_come_when_asked_for_or_when_nothing_else_matches(offers: _Offers) -> None:
    provider = _provider(offers)
    assert _matches(provider, ">=3.0rc1") == ["3.0rc1"]
    assert _matches(provider, "<1") == ["0.9b1"]
    assert _matches(provider, ">=1", "<3") == ["2.1", "1.5", "1.0"]  # every requirement at once


def test_incompatible_versions_are_left_out(offers: _Offers) -> None:
    assert _matches(_provider(offers), ">=1", excluded=["2.1"]) == ["1.5", "1.0"]


def test_candidates_carry_the_requested_extras(offers: _Offers) -> None:
    requirements = [Requirement(NAME, SpecifierSet(">=2"), frozenset({NormalizedName("fast")}))]
    identifier = requirements[0].identifier
    found = _provider(offers).find_matches(identifier, {identifier: iter(requirements)}, {identifier: iter([])})
    assert [(c.identifier, str(c.version)) for c in found()] == [("demo[fast]", "2.1")]


def test_the_first_candidate_is_found_without_reading_every_release() -> None:
    many = _Offers([(f"{n}.0", False) for n in range(3000, 0, -1)])
    found = _provider(many).find_matches(NAME, {NAME: iter([Requirement(NAME, SpecifierSet(">=10"))])},
                                         {NAME: iter([])})
    first = next(iter(found()))
    assert str(first.version) == "3000.0"
    assert many.read <= 2


def _lock_provider(offers: _Offers, preferred: str = "", below: str = "") -> LockProvider:
    return LockProvider(_Finder(offers), None, {},  # type: ignore[arg-type]
                        preferences={NAME: Version(preferred)} if preferred else {},
                        constraints={NAME: SpecifierSet(f"<{below}")} if below else {})


def test_the_lock_provider_puts_the_locked_version_first_within_the_constraints(offers: _Offers) -> None:
    assert _matches(_lock_provider(offers, preferred="1.0", below="2.1"), ">=1") == ["1.0", "1.5"]
    assert _matches(_lock_provider(offers, preferred="1.5"), ">=1") == ["1.5", "2.1", "1.0"]
    # a locked version outside the constraints is not offered at all
    assert _matches(_lock_provider(offers, preferred="2.1", below="2.1"), ">=1") == ["1.5", "1.0"]
    assert _matches(_lock_provider(offers), ">=1") == ["2.1", "1.5", "1.0"]
