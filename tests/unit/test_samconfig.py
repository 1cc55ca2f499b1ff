"""samconfig.toml's environments dev ([default]) and prod: each its own stack, and every parameter it overrides
is a parameter of template.yaml with an allowed value (`sam deploy` would only find a typo at deploy time);
the README explains every template parameter."""

from __future__ import annotations

import re
import shlex
import tomllib
from typing import Any

import pytest
from storesync_local.template import TEMPLATE_PATH, load_template

ROOT = TEMPLATE_PATH.parent
ENVIRONMENTS = ("default", "prod")


@pytest.fixture(scope="module")
def samconfig() -> dict[str, Any]:
    return tomllib.loads((ROOT / "samconfig.toml").read_text("utf-8"))


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def overrides(section: dict[str, Any]) -> dict[str, str]:
    """`parameter_overrides` as sam reads it: space-separated Name=Value (values may be quoted)."""
    pairs = [item.split("=", 1) for item in shlex.split(section.get("parameter_overrides", ""))]
    assert all(len(pair) == 2 for pair in pairs), section["parameter_overrides"]
    return dict(pairs)  # type: ignore[arg-type]


def test_dev_and_prod_are_two_stacks_in_one_format(samconfig: dict[str, Any]) -> None:
    assert samconfig["version"] == 0.1
    stacks = [samconfig[env]["global"]["parameters"]["stack_name"] for env in ENVIRONMENTS]
    assert stacks == ["storesync-dev", "storesync-prod"]
    for env in ENVIRONMENTS:
        deploy = samconfig[env]["deploy"]["parameters"]
        assert deploy["capabilities"] == "CAPABILITY_IAM"  # the functions' roles
        assert deploy["confirm_changeset"] is True and deploy["resolve_s3"] is True
        assert deploy["region"]
        assert samconfig[env]["validate"]["parameters"]["lint"] is True


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_override_is_a_template_parameter_with_an_allowed_value(
    samconfig: dict[str, Any], template: dict[str, Any], env: str
) -> None:
    parameters = template["Parameters"]
    given = overrides(samconfig[env]["deploy"]["parameters"])
    assert given, f"{env}: no parameter_overrides"
    for name, value in given.items():
        assert name in parameters, f"{env}: {name} is not a parameter of template.yaml"
        allowed = parameters[name].get("AllowedValues")
        assert allowed is None or value in allowed, f"{env}: {name}={value} is not one of {allowed}"


def test_prod_consents_to_the_published_app_and_dev_to_the_draft(samconfig: dict[str, Any]) -> None:
    assert overrides(samconfig["default"]["deploy"]["parameters"])["SpApiAppDraft"] == "true"
    assert overrides(samconfig["prod"]["deploy"]["parameters"])["SpApiAppDraft"] == "false"


def test_the_readme_explains_every_template_parameter(template: dict[str, Any]) -> None:
    named = set(re.findall(r"[A-Za-z]+", (ROOT / "README.md").read_text("utf-8")))
    missing = sorted(set(template["Parameters"]) - named)
    assert not missing, f"README.md does not explain the template parameters {missing}"
