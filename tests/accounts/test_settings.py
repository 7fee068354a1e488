"""Start-up configuration: bad settings stop the process with a message naming them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PERSONAL_DATA = {"PERSONAL_DATA_KEYS": "m2B1Zc0lqv6Y1C8n5wZk8m0H3dWZbXcN9rT2yUq4PEo=", "PERSONAL_DATA_HASH_KEY": "h" * 40}


def run_manage(*args, **env):
    unset = ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "AMS_WEBHOOK_SECRET", *PERSONAL_DATA)
    full_env = {k: v for k, v in os.environ.items() if k not in unset}
    full_env.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120)


def test_malformed_database_url_names_it():
    result = run_manage("check", DATABASE_URL="nonsense-without-scheme")
    assert result.returncode != 0
    assert "DATABASE_URL is malformed" in result.stderr


def test_production_refuses_to_start_without_secret_key():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.production", DJANGO_ALLOWED_HOSTS="agency.example", **PERSONAL_DATA)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.production", DJANGO_SECRET_KEY="k" * 30 + "x9" * 20, **PERSONAL_DATA)
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="a8Zk3Jq0Lp2Vn5Xc7Bm9Qw1Er4Ty6Ui8Op0As2Df4Gh6Jk8Lz0Xc",
        DJANGO_ALLOWED_HOSTS="agency.example",
        AMS_WEBHOOK_SECRET="w3bh00k-" + "Qx7Lp2Vn5Xc7Bm9Qw1Er4Ty6",
        **PERSONAL_DATA,
    )
    assert result.returncode == 0, result.stderr + result.stdout


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_ALLOWED_HOSTS": "agency.example",
    "DJANGO_SECRET_KEY": "a8Zk3Jq0Lp2Vn5Xc7Bm9Qw1Er4Ty6Ui8Op0As2Df4Gh6Jk8Lz0Xc",
    **PERSONAL_DATA,
}


def test_production_refuses_to_start_without_a_webhook_secret_of_its_own():
    """Issue 22, item 4: the sandbox's webhook secret is public (in the README); production needs its own."""
    for secret in (None, "sandbox-ams-webhook-secret", "short"):
        env = PRODUCTION | ({"AMS_WEBHOOK_SECRET": secret} if secret else {})
        result = run_manage("check", "--deploy", **env)
        assert result.returncode != 0, secret
        assert "AMS_WEBHOOK_SECRET" in result.stderr


def test_local_settings_keep_the_sandbox_webhook_secret():
    result = run_manage("shell", "-c", "from django.conf import settings; print(settings.AMS_WEBHOOK_SECRET)")
    assert result.stdout.strip().splitlines()[-1] == "sandbox-ams-webhook-secret", result.stderr


def test_production_refuses_to_start_without_personal_data_keys():
    result = run_manage(
        "check",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_ALLOWED_HOSTS="agency.example",
        DJANGO_SECRET_KEY="k" * 30 + "x9" * 20,
        PERSONAL_DATA_HASH_KEY="h" * 40,
    )
    assert result.returncode != 0
    assert "PERSONAL_DATA_KEYS" in result.stderr
