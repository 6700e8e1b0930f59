"""Every mapped model has a factory, and every factory (and trait) writes rows the database accepts."""

import pytest
from sqlalchemy import func, inspect, select

from referral_hub.chapters.models import ChapterPolicy
from referral_hub.extensions import db
from referral_hub.ledger import verify
from referral_hub.relationships.models import Interaction
from tests import factories

FACTORIES = {
    declared._meta.model: declared
    for declared in vars(factories).values()
    if isinstance(declared, type)
    and issubclass(declared, factories.BaseFactory)
    and not declared._meta.abstract
}


def by_name(factory_class) -> str:
    return factory_class.__name__


TRAITS = [
    (factory_class, name)
    for factory_class in sorted(FACTORIES.values(), key=by_name)
    for name, declaration in factory_class._meta.parameters.items()
    if isinstance(declaration, factories.factory.Trait)
]


def test_every_mapped_model_has_a_factory(app):
    models = {mapper.class_ for mapper in db.Model.registry.mappers}
    missing = sorted(model.__name__ for model in models - FACTORIES.keys())
    assert not missing, f"models without a factory in tests/factories.py: {missing}"


def assert_written(*rows) -> None:
    """Each row is in the database (read back afresh) under an identity of its own."""
    identities = [(type(row), inspect(row).identity) for row in rows]
    assert len(set(identities)) == len(rows)
    db.session.expunge_all()
    for model, identity in identities:
        assert db.session.get(model, identity) is not None


@pytest.mark.parametrize("factory_class", sorted(FACTORIES.values(), key=by_name), ids=by_name)
def test_factory_writes_two_distinct_rows(factory_class):
    first, second = factory_class(), factory_class()
    db.session.flush()
    assert_written(first, second)


@pytest.mark.parametrize(
    ("factory_class", "trait"), TRAITS, ids=[f"{by_name(cls)}-{trait}" for cls, trait in TRAITS]
)
def test_factory_trait_writes_a_row(factory_class, trait):
    row = factory_class(**{trait: True})
    db.session.flush()
    assert_written(row)


def test_ledger_factories_keep_the_books():
    account = factories.LedgerAccountFactory(credits=7)
    pool = factories.LedgerAccountFactory(pool=True)
    reversal = factories.LedgerTransactionFactory(reversal=True)
    entry = factories.LedgerEntryFactory(amount=4)
    change = factories.PolicyChangeFactory(new_value=9)

    assert account.balance == 7 and pool.balance == 0
    assert [leg.amount for leg in reversal.reverses.entries] == [-leg.amount for leg in reversal.entries]
    assert entry.amount == 4 and entry.account.balance == 4
    assert (change.old_value, db.session.get(ChapterPolicy, change.chapter_id).need_cost) == (2, 9)
    for chapter in (account.chapter, pool.chapter, reversal.chapter, entry.transaction.chapter):
        report = verify.verify(chapter)
        assert report.ok, [check.violations for check in report.checks if not check.ok]


def test_relationship_factory_strength_is_the_sum_of_recorded_interactions():
    pair = factories.RelationshipFactory(lapsed=True)
    recorded = db.session.scalar(
        select(func.count(Interaction.id)).where(
            Interaction.pair_low_id == pair.pair_low_id, Interaction.pair_high_id == pair.pair_high_id
        )
    )
    assert (recorded, pair.interactions, pair.strength) == (1, 1, 4.0)
