"""Typed settings: defaults < TOML file < IDP_* environment variables (and IDP_*_FILE for secrets).

`foundation.py` and `capabilities.py` hold the sections, `loading.py` the settings object and
where its values come from; every name is imported from here.
"""

from idp.settings.capabilities import FederationSettings
from idp.settings.capabilities import KauthSettings
from idp.settings.capabilities import MfaSettings
from idp.settings.capabilities import OidcSettings
from idp.settings.capabilities import PartnersSettings
from idp.settings.domains import DomainSettings
from idp.settings.foundation import Addresses
from idp.settings.foundation import DatabaseSettings
from idp.settings.foundation import LockoutSettings
from idp.settings.foundation import LogSettings
from idp.settings.foundation import MailSettings
from idp.settings.foundation import PasswordSettings
from idp.settings.foundation import RateLimitSettings
from idp.settings.foundation import RedisSettings
from idp.settings.foundation import SecuritySettings
from idp.settings.foundation import ServerSettings
from idp.settings.foundation import SessionSettings
from idp.settings.foundation import SignupSettings
from idp.settings.foundation import SmsSettings
from idp.settings.foundation import SmtpSettings
from idp.settings.loading import ENV_PREFIX
from idp.settings.loading import Settings
from idp.settings.loading import config_file_path
from idp.settings.loading import instance_path_from_env
from idp.settings.loading import load_settings
from idp.settings.pricing import MoneySettings
from idp.settings.pricing import PricingSettings

__all__ = [
    "ENV_PREFIX",
    "Addresses",
    "DatabaseSettings",
    "DomainSettings",
    "FederationSettings",
    "KauthSettings",
    "LockoutSettings",
    "LogSettings",
    "MailSettings",
    "MfaSettings",
    "MoneySettings",
    "OidcSettings",
    "PartnersSettings",
    "PasswordSettings",
    "PricingSettings",
    "RateLimitSettings",
    "RedisSettings",
    "SecuritySettings",
    "ServerSettings",
    "SessionSettings",
    "Settings",
    "SignupSettings",
    "SmsSettings",
    "SmtpSettings",
    "config_file_path",
    "instance_path_from_env",
    "load_settings",
]
