"""Configuration from the environment: what production refuses to start with, and TRUST_PROXY."""

import pytest

from referral_hub.config import ConfigError, from_environment

GOOD_SECRET = "9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c"


def config(**environ) -> dict:
    return from_environment("instance", {"REFERRAL_HUB_ENV": "production", **environ})


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("change-me-in-production", "is a placeholder"),  # docker-compose.yml's former default
        ("changeme", "is a placeholder"),
        ("CHANGE_ME-please-to-something-long-and-random", "is a placeholder"),
        ("insecure-production-key-0123456789abcdef", "is a placeholder"),
        ("secret", "is shorter than 32 characters"),
        ("dev", "is shorter than 32 characters"),
        ("a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d", "is shorter than 32 characters"),
        ("ab" * 20, "has fewer than 8 different characters"),
    ],
)
def test_production_refuses_a_placeholder_or_weak_secret_key(secret, problem):
    with pytest.raises(ConfigError, match=f"SECRET_KEY {problem}"):
        config(SECRET_KEY=secret)


@pytest.mark.parametrize("env", ["development", "testing"])
def test_only_production_holds_the_secret_key_to_these_rules(env):
    # A guard on the rule's scope (it passes on the code before the rule too).
    assert config(SECRET_KEY=GOOD_SECRET)["SECRET_KEY"] == GOOD_SECRET
    assert config(REFERRAL_HUB_ENV=env, SECRET_KEY="dev")["SECRET_KEY"] == "dev"
    assert config(REFERRAL_HUB_ENV=env)["SECRET_KEY"] == f"insecure-{env}-key"


@pytest.mark.parametrize(("value", "proxies"), [(None, 0), ("", 0), ("0", 0), (" 2 ", 2)])
def test_trust_proxy_is_the_number_of_proxies_and_none_by_default(value, proxies):
    environ = {"SECRET_KEY": GOOD_SECRET} | ({"TRUST_PROXY": value} if value is not None else {})
    assert config(**environ)["TRUST_PROXY"] == proxies


@pytest.mark.parametrize("value", ["-1", "true", "yes", "1.5", "٣", "+1"])
def test_trust_proxy_that_is_not_a_count_of_proxies_is_refused(value):
    with pytest.raises(ConfigError, match="TRUST_PROXY must be the number of proxies"):
        config(SECRET_KEY=GOOD_SECRET, TRUST_PROXY=value)


@pytest.mark.parametrize(
    ("value", "token"), [(None, None), ("", None), ("  ", None), (" s3cret-token ", "s3cret-token")]
)
def test_metrics_token_is_off_unless_set(value, token):
    environ = {"SECRET_KEY": GOOD_SECRET} | ({"METRICS_TOKEN": value} if value is not None else {})
    assert config(**environ)["METRICS_TOKEN"] == token


def test_metrics_shared_between_processes_need_their_directory_to_exist(tmp_path):
    missing = str(tmp_path / "absent")
    with pytest.raises(ConfigError, match="PROMETHEUS_MULTIPROC_DIR must be an existing directory"):
        config(SECRET_KEY=GOOD_SECRET, METRICS_TOKEN="t", PROMETHEUS_MULTIPROC_DIR=missing)
    assert config(SECRET_KEY=GOOD_SECRET, METRICS_TOKEN="t", PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    assert config(SECRET_KEY=GOOD_SECRET, PROMETHEUS_MULTIPROC_DIR=missing)["METRICS_TOKEN"] is None
