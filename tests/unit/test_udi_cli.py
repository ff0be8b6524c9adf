"""``tracegraph udi parse``: the GS1 settings as flags, and bare SSCCs as a WMS exports them."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.context import EXIT_INVALID
from cli.main import app

runner = CliRunner()

UNKNOWN_AI = "(01)09506000134352(89)ABC"  # GS1 defines no AI (89)
UNKNOWN_AI_AS_ATTRIBUTE = "https://id.gs1.org/01/09506000134352?89=ABC"
CONVENIENCE_ALPHA = "https://id.gs1.org/gtin/09506000134352"  # Digital Link 1.0 path name
ZERO_SUPPRESSED = "https://id.gs1.org/01/9506000134352"  # a GTIN-13 where 1.1 wants 14 digits


def udi_parse(*args: str) -> tuple[int, dict[str, object], str]:
    result = runner.invoke(app, ["udi", "parse", "--json", *args])
    return result.exit_code, json.loads(result.stdout), result.stderr


@pytest.mark.parametrize(
    ("barcode", "refused_with", "accepted_with", "reason"),
    [
        (UNKNOWN_AI, [], ["--permit-unknown-ais"], "(89) is not a GS1 Application Identifier"),
        (CONVENIENCE_ALPHA, ["--no-permit-convenience-alphas"], [], "convenience alphas are not permitted"),
        (ZERO_SUPPRESSED, ["--no-permit-zero-suppressed-gtin-in-dl-uris"], [], "zero-suppressed GTINs not permitted"),
        (
            UNKNOWN_AI_AS_ATTRIBUTE,
            ["--permit-unknown-ais"],
            ["--permit-unknown-ais", "--no-validate-unknown-ai-not-dl-attr"],
            "may not be a Digital Link data attribute",
        ),
    ],
)
def test_each_gs1_setting_decides_between_refusal_and_acceptance(
    barcode: str, refused_with: list[str], accepted_with: list[str], reason: str
) -> None:
    code, refused, err = udi_parse(*refused_with, barcode)
    assert code == EXIT_INVALID and refused["valid"] is False
    assert reason in " ".join(refused["errors"])  # type: ignore[arg-type]
    assert reason in " ".join(err.split())  # the reason is told on stderr too

    code, accepted, _ = udi_parse(*accepted_with, barcode)
    assert code == 0 and accepted["valid"] is True
    assert accepted["key"] == "01/09506000134352"


def test_a_permitted_unknown_ai_is_read_with_a_warning() -> None:
    code, parsed, err = udi_parse("--permit-unknown-ais", UNKNOWN_AI)
    assert code == 0
    assert parsed["elements"] == {"01": "09506000134352", "89": "ABC"}
    assert "AI (89) is not defined by GS1" in " ".join(err.split())


def test_the_flags_are_documented_in_the_help() -> None:
    help_text = runner.invoke(app, ["udi", "parse", "--help"], env={"COLUMNS": "300"}).stdout
    for flag in (
        "--permit-unknown-ais",
        "--permit-zero-suppressed-gtin-in-dl-uris",
        "--permit-convenience-alphas",
        "--validate-unknown-ai-not-dl-attr",
    ):
        assert flag in help_text


def test_a_bare_sscc_is_read_as_ai_00_with_a_warning() -> None:
    code, parsed, err = udi_parse("157035381410375177")
    assert code == 0
    assert parsed["key"] == "00/157035381410375177"
    assert parsed["elements"] == {"00": "157035381410375177"}
    assert "read as an SSCC" in " ".join(err.split())


def test_a_bare_sscc_with_a_wrong_check_digit_is_refused_saying_so() -> None:
    code, parsed, err = udi_parse("157035381410375178")
    assert code == EXIT_INVALID and parsed["valid"] is False
    assert "SSCC 157035381410375178 has check digit 8, expected 7" in " ".join(err.split())
