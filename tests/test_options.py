"""Option resolution: command line > environment variable > ini; empty env = not given."""

from __future__ import annotations

import pytest

from contract_suite.core.options import resolve_options

PLUGIN = ("-p", "contract_suite.plugin")


def test_command_line_beats_environment_beats_ini(pytester: pytest.Pytester,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini("[pytest]\naqid_base_url = http://127.0.0.1:3\naqid_token = from-ini\n")
    monkeypatch.setenv("AQID_BASE_URL", "http://127.0.0.1:2")
    monkeypatch.setenv("AQID_TOKEN", "from-env")
    options = resolve_options(pytester.parseconfig(*PLUGIN, "--base-url", "http://127.0.0.1:1/"))
    assert options.base_url == "http://127.0.0.1:1"  # CLI, trailing slash dropped
    assert options.token == "from-env"  # no --token: the environment wins over ini
    monkeypatch.delenv("AQID_TOKEN")
    assert resolve_options(pytester.parseconfig(*PLUGIN)).token == "from-ini"


def test_an_empty_environment_variable_counts_as_not_given(pytester: pytest.Pytester,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AQID_BASE_URL", "")  # what `make contract` exports with no BASE_URL
    monkeypatch.setenv("AQID_OTHER_TEAM_TOKEN", "")
    options = resolve_options(pytester.parseconfig(*PLUGIN))
    assert options.base_url is None and options.other_team_token is None


def test_defaults_are_both_versions_ci_profile_and_no_seed(pytester: pytest.Pytester,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AQID_BASE_URL", "AQID_TOKEN", "AQID_OTHER_TEAM_TOKEN", "AQID_RECEIVER_URL"):
        monkeypatch.delenv(name, raising=False)
    options = resolve_options(pytester.parseconfig(*PLUGIN))
    assert options.api_versions == {"v1", "v2"} and options.profile == "ci"
    assert options.seed is None and not options.no_writes and not options.allow_production


def test_version_profile_seed_and_read_only_are_read(pytester: pytest.Pytester) -> None:
    options = resolve_options(pytester.parseconfig(
        *PLUGIN, "--api-version", "v1", "--profile", "smoke", "--seed", "7", "--no-writes"))
    assert options.api_versions == {"v1"} and options.profile == "smoke"
    assert options.seed == 7 and options.no_writes


def test_receiver_port_command_line_beats_environment_beats_ini_default_zero(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AQID_RECEIVER_PORT", raising=False)
    assert resolve_options(pytester.parseconfig(*PLUGIN)).receiver_port == 0
    pytester.makeini("[pytest]\naqid_receiver_port = 8103\n")
    assert resolve_options(pytester.parseconfig(*PLUGIN)).receiver_port == 8103
    monkeypatch.setenv("AQID_RECEIVER_PORT", "8102")
    assert resolve_options(pytester.parseconfig(*PLUGIN)).receiver_port == 8102
    config = pytester.parseconfig(*PLUGIN, "--receiver-port", "8101")
    assert resolve_options(config).receiver_port == 8101


@pytest.mark.parametrize("value", ["http", "-1", "65536"])
def test_a_bad_receiver_port_is_one_usage_line(pytester: pytest.Pytester, value: str) -> None:
    with pytest.raises(pytest.UsageError, match=rf"--receiver-port '{value}': a port number"):
        resolve_options(pytester.parseconfig(*PLUGIN, f"--receiver-port={value}"))


def test_a_fixed_receiver_port_is_refused_under_xdist_before_any_server_starts(
        pytester: pytest.Pytester) -> None:
    from contract_suite.core.bootstrap import prepare_run

    config = pytester.parseconfig(*PLUGIN, "-n", "2", "--receiver-port", "8101")
    with pytest.raises(pytest.UsageError, match="binds one receiver in one pytest process"):
        prepare_run(config)


def test_the_old_mode_name_read_only_is_refused_with_its_new_name(
        pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(*PLUGIN, "--read-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--read-only is now --no-writes" in result.stderr.str()
