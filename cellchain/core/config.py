"""Configuration: defaults here, then ``instance/config.py``, then the environment, then a test dict.

The protocol numbers of the trial (dose, tolerance, schedule, windows, shelf life, temperatures) live
here as defaults so that a site changes them in one reviewed place, never in code scattered around.
Unknown keys are refused: a misspelt setting that silently does nothing is how a wrong dose tolerance
reaches production.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from cellchain.identifiers import isbt128

# The checkout or installed tree: alembic.ini, migrations/, templates/, static/, labels/, instance/.
ROOT = Path(__file__).resolve().parent.parent.parent

DEFAULTS: dict[str, Any] = {
    # --- platform -------------------------------------------------------------------------------
    "DATABASE_URL": None,  # None: sqlite file in the instance folder
    "SECRET_KEY": None,  # None: generated once into instance/secret_key
    "SITE_NAME": "Beijing 302 Hospital Cell Therapy Facility",
    "SITE_TIMEZONE": "Asia/Shanghai",
    # The pages' language for whoever has not chosen one ("en" or "zh"; docs/architecture.md, "Languages").
    "DEFAULT_LANGUAGE": "en",
    "PASSWORD_HASH_METHOD": "scrypt:32768:8:1",
    "MAX_FAILED_LOGINS": 5,
    "API_TOKEN_TTL_HOURS": 12,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "PREFERRED_URL_SCHEME": "http",
    "SQL_ECHO": False,
    "HSTS": False,  # send Strict-Transport-Security; turn on only behind HTTPS
    "LOGIN_THROTTLE_FAILURES": 10,  # failed logins for one user name from one client address within the window -> 429
    # failed logins from one client address, whatever the names: a ward computer is shared by its nurses, so
    # this is set high enough that their typos together never lock the others out (docs/security.md)
    "LOGIN_THROTTLE_ADDRESS_FAILURES": 100,
    "LOGIN_THROTTLE_WINDOW_SECONDS": 900,
    # wrong passwords one person may type into another person's e-signature (a second nurse's) within the
    # login throttle's window before their co-signatures are refused (429); counted against the typist only
    "SIGNATURE_THROTTLE_FAILURES": 5,
    # one account holding QA with lab or with QC: off; a site whose staffing needs it turns it on (docs/rules.md)
    "ALLOW_QA_WITH_LAB_OR_QC": False,
    # How long an API write's Idempotency-Key is honoured (its answer kept for a retry); older keys are purged
    # on the account's next keyed write and by ``flask --app cellchain idempotency-purge`` (docs/security.md).
    "IDEMPOTENCY_KEY_HOURS": 24,
    "PROXY_COUNT": 0,  # reverse proxies in front that set X-Forwarded-For/-Proto (the client address they pass)
    "WTF_CSRF_CHECK_DEFAULT": False,  # the page forms' CSRF check runs in people.security, the API is exempt
    # A form's token lives as long as the login session that issued it (PERMANENT_SESSION_LIFETIME): a bedside
    # page left open for hours still posts, and a token never outlives the session it belongs to.
    "WTF_CSRF_TIME_LIMIT": None,
    # The token is the check; a Referer is not demanded over HTTPS, where a browser or proxy that strips it
    # (privacy settings, some tablets) would otherwise lock the ward out of every form.
    "WTF_CSRF_SSL_STRICT": False,
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,  # bytes; no form or JSON body is near this, a flood is refused (413)
    # --- audit keys and checkpoints (docs/security.md, "Audit trail") -----------------------------
    # The keyring sealing audit entries, outside the database: None is instance/audit_keyring.json, made on
    # first use; a named file must exist (init-db makes it). Every host of a site reads the same file.
    "AUDIT_KEYRING": None,
    # Where signed checkpoints of the chain's head are appended: a directory every host shares and the
    # database login cannot write. None: instance/audit_checkpoints. One directory belongs to one database.
    "AUDIT_CHECKPOINT_DIR": None,
    "AUDIT_CHECKPOINT_COPY_DIR": None,  # a second directory the site names; each checkpoint is appended there too
    "AUDIT_CHECKPOINT_EVERY_ENTRIES": 1000,  # a checkpoint after a commit once the head moved this many entries
    "AUDIT_CHECKPOINT_EVERY_SECONDS": 60,  # ... or once the last checkpoint is older than this
    # --- e-mail of notices (a hold on a released lot reaches QA and the investigators) -----------
    # None: notices stay in the in-app inbox only. When set, each notice is also mailed after the
    # transaction that raised it commits; a failed send is logged and kept on the notice, never fatal.
    "SMTP_HOST": None,
    "SMTP_PORT": 25,
    "SMTP_USER": None,  # log in when set (with SMTP_PASSWORD)
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": False,  # upgrade the connection with STARTTLS before logging in
    "SMTP_TIMEOUT_SECONDS": 10,
    "MAIL_FROM": "cellchain@localhost",
    # --- JSON API document (flask-smorest reads these) ------------------------------------------
    "API_TITLE": "cellchain API",
    "API_VERSION": "1.0.0",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": None,  # None: no flask-smorest doc pages; /api/v1/openapi.json serves the document
    "API_SPEC_OPTIONS": {
        "info": {"description": (
            "Chain of identity and custody for UC-MSC cell therapy, from cord to bedside. "
            "Language: refusal messages and other human text in an answer are worded in the language the "
            "Accept-Language request header names (en, or zh; zh-CN and zh-Hans are zh), else in the language "
            "the token's owner chose on the Language page, else in the site's default language. Codes, field "
            "names and stored values are the same in every language.")},
        "servers": [{"url": "/api/v1"}],
    },
    # --- ISBT 128 -------------------------------------------------------------------------------
    "FACILITY_FIN": "A9999",  # ICCBBA validation FIN; a site sets its licensed one
    "FACILITY_NAME": "cellchain validation facility (A9999)",
    "FACILITY_CONTACT": "",  # 24 h telephone printed on shipper labels when set
    # Seconds a print job waits to reach a label printer before it is recorded as failed (labelling/printing)
    "PRINTER_TIMEOUT_SECONDS": 5.0,
    # The releasing establishment's address and telephone, printed under its name on the bag label.
    "FACILITY_ADDRESS": "",
    "FACILITY_TELEPHONE": "",
    # --- labels (docs/architecture.md, "Labels and templates") ---------------------------------
    # The languages of every label's captions, statements and status, in print order ("zh", "en").
    "LABEL_LANGUAGES": ["zh", "en"],
    # The statement on product labels: "cn_clinical_trial" (仅供临床试验使用, For clinical trial use only)
    # or "us_investigational" (the caution of 21 CFR 312.6).
    "LABEL_STATEMENT": "cn_clinical_trial",
    # The resolution of the site's Zebra printers (203, 300 or 600 dpi) when a ZPL job names none.
    "LABEL_ZPL_DPI": 203,
    # Product description codes (ISBT 128 ST-001/ST-022): S cellular therapy (S + 4 digits), YA-YZ
    # clinical-trial products (Y + letter + 3), or facility-local D codes (the default); docs/identifiers.md.
    "PRODUCT_CODES": {"ucmsc": "D0001", "placebo": "D0002"},
    # The 2-digit location code of the patient date of birth (=#aa...) and identification (&#aa...) structures.
    "PATIENT_LOCATION_CODE": "00",
    # The product line of the bag label, in English; it prints in each of LABEL_LANGUAGES the catalogue has it
    # in (context "label"), else in English alone (labelling/data.py).
    "PRODUCT_DESCRIPTIONS": {
        "ucmsc": "UC-MSC, allogeneic, for infusion",
        "placebo": "Placebo: sodium chloride 0.9%",
    },
    "COLLECTION_TYPE": "V",
    # The facility's own structures on vial, box, storage, culture-vessel, QC-tube and instrument labels: local
    # data identifiers &a-&z, one distinct letter per kind (docs/identifiers.md).
    "LOCAL_DATA_IDENTIFIERS": {"vial": "a", "box": "b", "position": "c", "location": "d", "vessel": "e",
                               "qc_tube": "f", "instrument": "g"},
    # Calibrations and maintenance due within this many days show on the QA dashboard (docs/rules.md, "Equipment").
    "EQUIPMENT_DUE_DAYS": 30,
    # --- trial protocol (NCT01690247) -----------------------------------------------------------
    "TRIAL_ID": "NCT01690247",
    "TRIAL_PLANNED_SUBJECTS": 50,
    "SUBJECT_MIN_AGE": 18,
    "SUBJECT_MAX_AGE": 70,
    "DOSE_CELLS_PER_KG": 1_000_000,
    "DOSE_TOLERANCE": 0.10,
    "PLACEBO_VOLUME_ML": 50.0,
    "INFUSION_WEEKS": [0, 4, 8, 12],
    "FOLLOW_UP_WEEKS": [4, 8, 12, 24, 36, 48],
    "INFUSION_WINDOW_DAYS": 3,
    "FOLLOW_UP_WINDOW_DAYS": 7,
    "INFUSION_PLANNED_TIME": "09:00",  # site time an infusion visit is planned at until the coordinator moves it
    # --- manufacturing and storage --------------------------------------------------------------
    "PASSAGE_LIMIT": 5,  # highest passage number, counted from the cord (continues through banks, ICH Q5D)
    # Tiered banking (ICH Q5D; docs/rules.md, "Banking"): may a dosing lot start straight from a cord (as
    # before banks existed), and may it start from a master bank's vial instead of a working bank's?
    "DOSING_LOT_FROM_CORD": True,
    "DOSING_LOT_FROM_MCB": False,
    "PASSAGE_INTERVAL_DAYS": 3,  # the lab dashboard flags a passage due once the last harvest is older
    "BATCH_RECORD_STEPS": None,  # None: the SOP in manufacturing/rules/batch_record.py; or [{code, title, ...}]
    "PRODUCT_SHELF_LIFE_HOURS": 48,
    # Materials (docs/rules.md, "Materials"): anticoagulant and saline are released material lots; False only while
    # a site moves its typed lot numbers onto material lots. GS1_GS_SUBSTITUTE is the character a keyboard-wedge
    # scanner is set to type for GS (FNC1), which a browser field cannot take; "" for none. "|" and "~" are
    # outside GS1's character set, so they never stand for data.
    "MATERIAL_LOTS_REQUIRED": True,
    "GS1_GS_SUBSTITUTE": "|",
    "PLACEBO_SHELF_LIFE_DAYS": 90,
    # A cryopreserved bag keeps FROZEN_SHELF_LIFE_DAYS from its freezing (the site's validated frozen
    # stability, ICH Q5C); once thawed it must be infused within THAWED_SHELF_LIFE_HOURS of the thaw,
    # never later than its frozen expiry (docs/rules.md, "Frozen bags and the thaw").
    "FROZEN_SHELF_LIFE_DAYS": 180,
    "THAWED_SHELF_LIFE_HOURS": 4,
    # The alerts page and the top bar's count warn of bags that expire within this many hours.
    "EXPIRY_ALERT_HOURS": 24,
    "DONOR_SPECIMEN_WINDOW_DAYS": 7,
    "TEMPERATURE_RANGES": {
        "collection": [2.0, 25.0],
        "lot": [2.0, 8.0],
        "bag": [2.0, 8.0],
        "frozen_bag": [-196.0, -150.0],  # a cryopreserved bag until its thaw (docs/rules.md)
        "vial": [-196.0, -135.0],  # cryopreserved bank vials: liquid or vapour-phase nitrogen
    },
}

# Keys Flask and its extensions read; allowed to be set, not defaulted here.
FLASK_KEYS = {
    "TESTING", "DEBUG", "SERVER_NAME", "APPLICATION_ROOT", "SESSION_COOKIE_NAME", "MAX_CONTENT_LENGTH",
    "TEMPLATES_AUTO_RELOAD", "EXPLAIN_TEMPLATE_LOADING", "PROPAGATE_EXCEPTIONS", "TRAP_HTTP_EXCEPTIONS",
    "SEND_FILE_MAX_AGE_DEFAULT", "TRUSTED_HOSTS", "SESSION_COOKIE_DOMAIN", "SESSION_COOKIE_PATH",
    "SESSION_REFRESH_EACH_REQUEST", "USE_X_SENDFILE", "MAX_FORM_MEMORY_SIZE", "MAX_FORM_PARTS",
    "PROVIDE_AUTOMATIC_OPTIONS", "SESSION_COOKIE_PARTITIONED", "SECRET_KEY_FALLBACKS",
}
# Test-only switches, accepted in a test dict and nowhere else.
TEST_KEYS: set[str] = set()
ENV_PREFIX = "CELLCHAIN_"


class ConfigError(ValueError):
    """A setting that does not exist or cannot be read."""


def _check_keys(values: dict[str, Any], source: str, extra: set[str] = frozenset()) -> None:
    unknown = sorted(k for k in values if k not in DEFAULTS and k not in FLASK_KEYS and k not in extra)
    if unknown:
        raise ConfigError(f"unknown configuration key(s) in {source}: {', '.join(unknown)}")


def _from_instance_file(instance_path: Path) -> dict[str, Any]:
    path = instance_path / "config.py"
    if not path.exists():
        return {}
    namespace: dict[str, Any] = {}
    code = compile(path.read_text(), str(path), "exec")
    # The site's own file, written by its administrator (as Flask's from_pyfile runs it): not input.
    exec(code, namespace)  # noqa: S102  # nosec B102
    values = {k: v for k, v in namespace.items() if k.isupper()}
    _check_keys(values, str(path))
    return values


def _parse_env_value(raw: str) -> Any:
    """Environment values are JSON when they parse as JSON (numbers, lists, objects), else text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _from_environment(environ: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in ("DATABASE_URL", "SECRET_KEY"):
        if environ.get(name):
            values[name] = environ[name]
    prefixed = {k[len(ENV_PREFIX):]: v for k, v in environ.items() if k.startswith(ENV_PREFIX)}
    _check_keys(prefixed, "the environment (CELLCHAIN_*)")
    values.update({k: _parse_env_value(v) for k, v in prefixed.items()})
    return values


def _secret_key(instance_path: Path) -> str:
    """A secret generated once per installation: a constant in code would let anyone forge sessions."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def _check_local_letters(letters: Any) -> None:
    """One distinct lower-case letter per kind, or a scan of one kind would open another."""
    if not isinstance(letters, dict) or not all(isinstance(v, str) and len(v) == 1 and "a" <= v <= "z"
                                                for v in letters.values()):
        raise ConfigError("LOCAL_DATA_IDENTIFIERS maps each kind to one lower-case letter a-z")
    if len(set(letters.values())) != len(letters):
        raise ConfigError("LOCAL_DATA_IDENTIFIERS gives one letter to two kinds")
    missing = sorted(set(DEFAULTS["LOCAL_DATA_IDENTIFIERS"]) - set(letters))
    if missing:
        raise ConfigError(f"LOCAL_DATA_IDENTIFIERS gives no letter to {', '.join(missing)}")


def _check_isbt_codes(config: dict[str, Any]) -> None:
    """Product codes of the three families a site may use, and a 2-digit patient location code."""
    codes = config["PRODUCT_CODES"]
    if not isinstance(codes, dict) or not all(isbt128.product_family(c) for c in codes.values()):
        raise ConfigError("PRODUCT_CODES are S codes (S + 4 digits), clinical-trial codes (YA-YZ + 3 letters or "
                          "digits) or local D codes (D + 4 letters or digits)")
    location = config["PATIENT_LOCATION_CODE"]
    if not isinstance(location, str) or not isbt128.LOCATION_CODE.fullmatch(location):
        raise ConfigError("PATIENT_LOCATION_CODE is 2 digits")


def _check_labels(config: dict[str, Any]) -> None:
    """Label settings a print job would otherwise refuse at the bench (docs/architecture.md)."""
    languages = config["LABEL_LANGUAGES"]
    if (not isinstance(languages, list | tuple) or not languages or len(set(languages)) != len(languages)
            or any(code not in ("en", "zh") for code in languages)):
        raise ConfigError("LABEL_LANGUAGES lists one or more of 'zh' and 'en', each once")
    if config["LABEL_STATEMENT"] not in ("cn_clinical_trial", "us_investigational"):
        raise ConfigError("LABEL_STATEMENT is 'cn_clinical_trial' or 'us_investigational'")
    if config["LABEL_ZPL_DPI"] not in (203, 300, 600):
        raise ConfigError("LABEL_ZPL_DPI is 203, 300 or 600")


def load(instance_path: str, test_config: dict[str, Any] | None = None,
         environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The merged configuration, in order of precedence: test dict > environment > instance > defaults."""
    instance = Path(instance_path)
    config = dict(DEFAULTS)
    config.update(_from_instance_file(instance))
    if test_config is None:
        config.update(_from_environment(dict(os.environ) if environ is None else environ))
    else:
        _check_keys(test_config, "the test configuration", TEST_KEYS)
        config.update(test_config)
    _check_local_letters(config["LOCAL_DATA_IDENTIFIERS"])
    _check_labels(config)
    _check_isbt_codes(config)
    if config["DEFAULT_LANGUAGE"] not in ("en", "zh"):
        raise ValueError(f"DEFAULT_LANGUAGE is {config['DEFAULT_LANGUAGE']!r}; the site offers 'en' and 'zh'")
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _secret_key(instance)
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance / 'cellchain.sqlite'}"
    if not config["AUDIT_KEYRING"]:
        config["AUDIT_KEYRING"] = str(instance / "audit_keyring.json")
    if not config["AUDIT_CHECKPOINT_DIR"]:
        # A test's database is its own: its checkpoints never go into the site's log (they would not match).
        config["AUDIT_CHECKPOINT_DIR"] = (tempfile.mkdtemp(prefix="cellchain-checkpoints-") if config.get("TESTING")
                                          else str(instance / "audit_checkpoints"))
    return config
