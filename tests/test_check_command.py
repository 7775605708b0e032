"""`sportello check`, `notices` and `notice` as a user runs them."""

from __future__ import annotations

import io
import json

import pytest

from bot.cli import main
from tests.example_notice import EXAMPLE
from tests.test_contract_examples import sportello

OPERA = {
    "municipality": "Opera",
    "application_date": "2025-06-02",
    "beneficiary": {
        "birth_date": "1939-05-20",
        "lives_at_home": True,
        "certifications": ["indennita_accompagnamento"],
    },
    "isee": {"kind": "sociosanitario", "value": 9800.5},
}


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err, stdin=io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()


def test_check_reads_a_file_and_prints_the_verdict(tmp_path):
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(OPERA), encoding="utf-8")
    code, out, err = run("check", str(path))
    assert (code, err) == (0, "")
    verdict = json.loads(out)
    assert verdict["notice"]["id"] == "visconteo-sud-milano-2025"
    assert verdict["measures"][0]["verdict"] == "undetermined"
    assert verdict["missing"] == ["current_measures", "assistant.employed", "first_application"]


def test_application_date_defaults_to_today_option():
    facts = {k: v for k, v in OPERA.items() if k != "application_date"}
    code, out, _ = run("check", "--today", "2025-06-21", "-", stdin=json.dumps(facts))
    assert code == 0
    assert json.loads(out)["notice"]["status"] == "closed"
    code, out, _ = run("check", "--today", "2025-06-20", "-", stdin=json.dumps(facts))
    assert json.loads(out)["notice"]["status"] == "open"


@pytest.mark.parametrize(
    ("facts", "line"),
    [
        (
            {"isee": {"kind": "sociosanitario", "value": "venticinquemila"}},
            'isee.value: must be a number >= 0, got "venticinquemila"',
        ),
        (
            {"isee": {"kind": "sociosanitario", "value": -1}},
            "isee.value: must be a number >= 0, got -1",
        ),
        ({"isee": {"kind": "lordo", "value": 1}}, "isee.kind: must be one of"),
        ({"isee": {"status": "forse"}}, "isee.status: must be one of"),
        (
            {"beneficiary": {"birth_date": "1/3/1950"}},
            'beneficiary.birth_date: must be a date as YYYY-MM-DD, got "1/3/1950"',
        ),
        (
            {"beneficiary": {"birth_date": "2030-01-01"}},
            "beneficiary.birth_date: must be on or before application_date",
        ),
        ({"beneficiary": {"eta": 80}}, "beneficiary.eta: unknown field"),
        ({"reddito": 1}, "reddito: unknown field"),
        (
            {"beneficiary": {"lives_at_home": "si"}},
            'beneficiary.lives_at_home: must be true or false, got "si"',
        ),
        (
            {"beneficiary": {"certifications": ["legge104"]}},
            "beneficiary.certifications: must list only",
        ),
        ({"current_measures": "adi"}, "current_measures: must be a list of"),
        (
            {"caregiver": {"weekly_work_hours": 200}},
            "caregiver.weekly_work_hours: must be a number from 0 to 168",
        ),
        (
            {"assessment": {"adl_functions_kept": 7}},
            "assessment.adl_functions_kept: must be a whole number from 0 to 6",
        ),
        (
            {"assessment": {"iadl_functions_kept": 2.5}},
            "assessment.iadl_functions_kept: must be a whole number",
        ),
        ({"first_application": 1}, "first_application: must be true or false, got 1"),
        ({"municipality": ""}, "municipality: must be a non-empty text"),
        ({"application_date": "2025-13-01"}, "application_date: must be a date as YYYY-MM-DD"),
        ({"caregiver": "yes"}, 'caregiver: must be an object, got "yes"'),
    ],
)
def test_bad_fact_exits_2_with_one_line_naming_the_field(facts, line):
    raw = {**OPERA, **facts}
    if "beneficiary" in facts and isinstance(facts["beneficiary"], dict):
        raw["beneficiary"] = {**OPERA["beneficiary"], **facts["beneficiary"]}
    code, out, err = run("check", "-", stdin=json.dumps(raw))
    assert code == 2
    assert out == ""
    assert line in err
    assert len(err.strip().splitlines()) == 1


def test_every_problem_gets_its_own_line():
    raw = {**OPERA, "reddito": 1, "isee": {"kind": "sociosanitario", "value": "x"}}
    code, out, err = run("check", "-", stdin=json.dumps(raw))
    assert code == 2 and out == ""
    assert sorted(err.strip().splitlines()) == [
        'isee.value: must be a number >= 0, got "x"',
        "reddito: unknown field",
    ]


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '"Rozzano"', "{"])
def test_input_that_is_not_a_facts_object_exits_2(text):
    code, out, err = run("check", "-", stdin=text)
    assert code == 2 and out == "" and err.strip()


def test_missing_file_exits_2_with_a_clear_line(tmp_path):
    code, out, err = run("check", str(tmp_path / "nope.json"))
    assert code == 2 and out == ""
    assert "nope.json: cannot read the file" in err


def test_bad_today_option_exits_2():
    code, out, err = run("check", "--today", "ieri", "-", stdin="{}")
    assert code == 2 and out == "" and "--today" in err


def test_notices_lists_every_notice_with_its_status_on_a_date():
    code, out, _ = run("notices", "--today", "2025-06-01")
    assert code == 0
    rows = {line.split("\t")[0]: line.split("\t")[1] for line in out.splitlines()}
    assert rows == {
        "visconteo-sud-milano-2025": "aperto",
        "ambito-5-melzo-2025": "aperto",
        "gallarate-riapertura-2026": "non ancora aperto",
        "distretto-4-cernusco-2021": "chiuso",  # an old notice: its funds went by 31/03/2022
        "milano-assistenza-diretta-2025": "guida (nessun bando)",
    }
    _, out, _ = run("notices", "--today", "2021-04-20")
    assert "distretto-4-cernusco-2021\tdate non indicate" in out
    _, out, _ = run("notices", "--today", "2026-04-01")
    assert "gallarate-riapertura-2026\taperto" in out
    assert "visconteo-sud-milano-2025\tchiuso" in out


def test_notice_prints_readable_italian_with_sources():
    code, out, _ = run("notice", "visconteo-sud-milano-2025", "--today", "2025-06-01")
    assert code == 0
    assert "Stato oggi: aperto" in out
    assert "20 giugno 2025 alle 12:00" in out
    assert "protocollo@pec.comune.rozzano.mi.it" in out
    assert "[Art. 2]" in out and "[Art. 9]" in out
    assert "Fonte: 001_1012f43f3fae6e09.txt" in out


def test_notice_shows_guidance_steps_for_milano():
    code, out, _ = run("notice", "milano-assistenza-diretta-2025")
    assert code == 0
    assert "servizicrm.comune.milano.it" in out
    assert "Passi:" in out


def test_unknown_notice_id_exits_2_and_lists_known_ids():
    code, out, err = run("notice", "bergamo")
    assert code == 2 and out == ""
    assert "visconteo-sud-milano-2025" in err


def test_installed_console_script_reports_bad_input_on_stderr_only():
    done = sportello("check", "-", stdin='{"isee": {"value": -5, "kind": "ordinario"}}')
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == "isee.value: must be a number >= 0, got -5"


@pytest.mark.parametrize(
    "notice_id",
    [
        "visconteo-sud-milano-2025",
        "ambito-5-melzo-2025",
        "gallarate-riapertura-2026",
        "distretto-4-cernusco-2021",
    ],
)
def test_notice_text_shows_no_raw_placeholders_and_lists_compatibility(notice_id):
    code, out, _ = run("notice", notice_id)
    assert code == 0
    assert "{" not in out
    assert "Misura B1" in out  # the compatibility list is always printed


def test_output_cut_short_by_the_reader_is_not_an_error():
    done = sportello("notice", "distretto-4-cernusco-2021")
    assert done.returncode == 0
    import subprocess

    piped = subprocess.run(
        "sportello notice distretto-4-cernusco-2021 | head -1",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
        env={
            **__import__("os").environ,
            "PATH": f"{__import__('sys').exec_prefix}/bin:" + __import__("os").environ["PATH"],
        },
    )
    assert "Traceback" not in piped.stderr


def test_check_uses_the_notices_published_under_the_data_dir_as_the_bot_does(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("SPORTELLO_DATA_DIR", str(tmp_path / "var"))
    facts = json.dumps({"municipality": "Carate Brianza", "application_date": "2027-03-20"})
    before = sportello("check", "-", stdin=facts)  # the real console script
    assert before.returncode == 0, before.stderr
    assert json.loads(before.stdout)["notice"] is None  # the regional pre-check
    assert not (tmp_path / "var").exists()  # reading created nothing

    assert run("notice", "publish", str(EXAMPLE), "--by", "anna.rossi")[0] == 0
    done = sportello("check", "-", stdin=facts)
    assert done.returncode == 0 and done.stderr == ""
    verdict = json.loads(done.stdout)
    assert verdict["notice"]["id"] == "esempio-brianza-2027"
    assert verdict["notice"]["status"] == "open"

    assert run("notice", "unpublish", "esempio-brianza-2027", "--by", "anna.rossi")[0] == 0
    after = json.loads(sportello("check", "-", stdin=facts).stdout)
    assert after["notice"] is None


def test_check_still_answers_when_the_settings_cannot_be_read(monkeypatch):
    monkeypatch.setenv("WEBHOOK_URL", "http://not-https.example")
    done = sportello("check", "-", stdin=json.dumps(OPERA))
    assert done.returncode == 0
    assert json.loads(done.stdout)["notice"]["id"] == "visconteo-sud-milano-2025"
    assert "only the bundled notices" in done.stderr
