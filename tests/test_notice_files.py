"""Notice files are data checked by a schema: a broken one fails at load, naming file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from eligibility import CatalogueError, check, load_catalogue, normalise, validate
from eligibility.catalogue import DATA_DIR

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"


def copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_shipped_notices_load():
    catalogue = load_catalogue()
    assert {n.id for n in catalogue.notices} == {
        "visconteo-sud-milano-2025",
        "ambito-5-melzo-2025",
        "gallarate-riapertura-2026",
        "distretto-4-cernusco-2021",
    }
    assert [g.id for g in catalogue.guidance] == ["milano-assistenza-diretta-2025"]


def test_every_notice_names_an_existing_seed_file():
    catalogue = load_catalogue()
    for entry in [*catalogue.notices, *catalogue.guidance]:
        assert (SEEDS / entry.source).exists(), entry.source


def test_every_comune_is_named_in_its_seed():
    """Never fill comuni from memory: each one must appear in the seed text."""
    catalogue = load_catalogue()
    for entry in [*catalogue.notices, *catalogue.guidance]:
        text = normalise((SEEDS / entry.source).read_text(encoding="utf-8"))
        for m in entry.municipalities:
            assert normalise(m.name) in text, f"{m.name} not in {entry.source}"


def test_every_address_is_in_its_seed():
    catalogue = load_catalogue()
    for notice in catalogue.notices:
        text = (SEEDS / notice.source).read_text(encoding="utf-8")
        subs = [notice.submission, *[m.submission for m in notice.municipalities if m.submission]]
        for sub in subs:
            if (sub.address and "@" in sub.address) or (sub.address and "www" in sub.address):
                assert sub.address in text, sub.address


def test_a_wrong_field_fails_at_load_naming_file_and_field(tmp_path):
    data = copy_data(tmp_path)
    path = data / "notices" / "visconteo-sud-milano-2025.yaml"
    edit(
        path,
        lambda d: d["measures"][0].update(amount={"max": "seicento", "text": "x", "source": "y"}),
    )
    with pytest.raises(CatalogueError) as err:
        load_catalogue.__wrapped__(data)
    assert "visconteo-sud-milano-2025.yaml: measures.0.amount.max" in str(err.value)


def test_an_unknown_field_fails_at_load(tmp_path):
    data = copy_data(tmp_path)
    path = data / "notices" / "ambito-5-melzo-2025.yaml"
    edit(path, lambda d: d["window"].update(scadenza="domani"))
    with pytest.raises(CatalogueError, match=r"ambito-5-melzo-2025.yaml: window.scadenza: Extra"):
        load_catalogue.__wrapped__(data)


def test_a_rule_on_an_unknown_fact_fails_at_load(tmp_path):
    data = copy_data(tmp_path)
    path = data / "notices" / "gallarate-riapertura-2026.yaml"
    edit(path, lambda d: d["common_requirements"][0].update(fact="beneficiary.eta"))
    with pytest.raises(CatalogueError, match=r"common_requirements\.0\.fact.*beneficiary\.eta"):
        load_catalogue.__wrapped__(data)


def test_a_new_notice_is_a_new_data_file(tmp_path):
    """Copy a notice under a new id and comune: the engine answers for it with no new code."""
    data = copy_data(tmp_path)
    source = data / "notices" / "gallarate-riapertura-2026.yaml"
    target = data / "notices" / "prova-2027.yaml"
    shutil.copy(source, target)

    def change(d):
        d["id"] = "prova-2027"
        d["municipalities"] = [{"name": "Comune di Prova"}]
        d["window"] = {"opens": "2027-01-10", "closes": "2027-02-10", "text": "t", "source": "s"}

    edit(target, change)
    catalogue = load_catalogue.__wrapped__(data)
    facts = validate({"municipality": "comune di prova", "application_date": "2027-01-15"})
    verdict = check(facts, catalogue)
    assert verdict["notice"]["id"] == "prova-2027"
    assert verdict["notice"]["status"] == "open"
    assert verdict["missing"][0] == "beneficiary.citizenship"


def test_a_broken_yaml_file_names_the_file(tmp_path):
    data = copy_data(tmp_path)
    (data / "notices" / "rotto.yaml").write_text("id: [", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"rotto\.yaml: (not valid YAML|il file non si legge)"):
        load_catalogue.__wrapped__(data)
