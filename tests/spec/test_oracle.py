"""The validation oracle against the real AWS messages quoted in the fact sheet (§2)."""

from __future__ import annotations

import dataclasses
import random
import re

import pytest

from conformance.spec import edition_model, load_model, predict_validation, type_mismatches

# Real KMS messages (aws-behaviour-facts.md §2, LocalStack snapshots recorded against AWS).
REAL_EXACT = [
    ("GenerateRandom", {"NumberOfBytes": 0},
     "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: "
     "Member must have value greater than or equal to 1"),
    ("GenerateRandom", {"NumberOfBytes": 1025},
     "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: "
     "Member must have value less than or equal to 1024"),
    ("Encrypt", {"KeyId": "alias/x", "Plaintext": b"p" * 4097},
     "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
     "Member must have length less than or equal to 4096"),
    ("TagResource", {"KeyId": "k", "Tags": [{"TagKey": "k", "TagValue": "v" * 257}]},
     "1 validation error detected: Value '" + "v" * 257 + "' at 'tags.1.member.tagValue' failed to satisfy "
     "constraint: Member must have length less than or equal to 256"),
    ("TagResource", {"KeyId": "k", "Tags": [{"TagKey": "a" * 129, "TagValue": "v"}]},
     "1 validation error detected: Value '" + "a" * 129 + "' at 'tags.1.member.tagKey' failed to satisfy "
     "constraint: Member must have length less than or equal to 128"),
    ("DescribeKey", {"KeyId": ""},
     "1 validation error detected: Value '' at 'keyId' failed to satisfy constraint: "
     "Member must have length greater than or equal to 1"),
]

# Real enum messages: AWS printed the set in hash order, and the model has grown since.
REAL_ENUM = [
    ("CreateKey", {"KeySpec": "HMAC_random"}, "keySpec", "KeySpec",
     "1 validation error detected: Value 'HMAC_random' at 'keySpec' failed to satisfy constraint: Member must "
     "satisfy enum value set: [RSA_2048, ECC_NIST_P384, ECC_NIST_P256, ECC_NIST_P521, HMAC_384, RSA_3072, "
     "ECC_SECG_P256K1, RSA_4096, SYMMETRIC_DEFAULT, HMAC_256, HMAC_224, HMAC_512]"),
    ("CreateKey", {"KeyUsage": "RANDOM"}, "keyUsage", "KeyUsageType",
     "1 validation error detected: Value 'RANDOM' at 'keyUsage' failed to satisfy constraint: Member must "
     "satisfy enum value set: [ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC]"),
    ("GenerateMac", {"KeyId": "k", "Message": b"m", "MacAlgorithm": "INVALID"}, "macAlgorithm", "MacAlgorithmSpec",
     "1 validation error detected: Value 'INVALID' at 'macAlgorithm' failed to satisfy constraint: Member must "
     "satisfy enum value set: [HMAC_SHA_384, HMAC_SHA_256, HMAC_SHA_224, HMAC_SHA_512]"),
    ("DeriveSharedSecret", {"KeyId": "k", "KeyAgreementAlgorithm": "INVALID", "PublicKey": b"x"},
     "keyAgreementAlgorithm", "KeyAgreementAlgorithmSpec",
     "1 validation error detected: Value 'INVALID' at 'keyAgreementAlgorithm' failed to satisfy constraint: "
     "Member must satisfy enum value set: [ECDH]"),
]


def _enum_values(message: str) -> list[str]:
    return message[message.index("[") + 1 : message.rindex("]")].split(", ")


@pytest.mark.parametrize(("op", "params", "real"), REAL_EXACT, ids=[r[0] + ":" + r[2][30:60] for r in REAL_EXACT])
def test_exact_real_messages(op, params, real):
    p = predict_validation(op, params)
    assert p is not None
    assert p.message == real
    assert p.certain and p.uncertainty == []
    assert p.matches(real)
    assert p.error_code == "ValidationException" and p.status == 400


@pytest.mark.parametrize(("op", "params", "path", "shape", "real"), REAL_ENUM, ids=[r[2] for r in REAL_ENUM])
def test_enum_messages_compare_as_sets(op, params, path, shape, real):
    p = predict_validation(op, params)
    assert p is not None and [v.path for v in p.violations] == [path]
    real_values = _enum_values(real)
    # Same clause text up to the value list; AWS's (older) set is within today's model.
    assert p.message[: p.message.index("[")] == real[: real.index("[")]
    assert set(real_values) <= set(_enum_values(p.message))
    if len(p.violations[0].bound) > 1:  # one value has only one order
        assert not p.certain and any("enum" in u for u in p.uncertainty)
    else:
        assert p.certain and p.message == real
    # With the enum as AWS had it then, the pattern accepts AWS's hash order exactly.
    base = load_model()
    then = dataclasses.replace(base, shapes={**base.shapes, shape: dataclasses.replace(base.shapes[shape], enum=tuple(real_values))})
    p_then = predict_validation(op, params, model=then)
    assert p_then.matches(real)
    assert p_then.message != real or len(real_values) == 1 or real_values == list(then.shapes[shape].enum)
    # ...and rejects a list with a value missing or duplicated.
    if len(real_values) > 1:
        assert not p_then.matches(real.replace(real_values[0] + ", ", "", 1).replace(", " + real_values[0] + "]", "]"))
        dup = real.replace(real_values[-1], real_values[0])
        assert not p_then.matches(dup)


def test_enum_pattern_accepts_any_permutation():
    p = predict_validation("CreateKey", {"KeyUsage": "RANDOM"})
    values = list(p.violations[0].bound)
    rng = random.Random(7)
    for _ in range(5):
        rng.shuffle(values)
        msg = p.message[: p.message.index("[")] + "[" + ", ".join(values) + "]"
        assert p.matches(msg)
    assert not p.matches(p.message.replace("'RANDOM'", "'OTHER'"))


def test_custom_key_store_sensitive_password_omits_value():
    p = predict_validation("UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-1234567890abcdef0", "KeyStorePassword": "short"})
    assert p.message == (
        "1 validation error detected: Value at 'keyStorePassword' failed to satisfy constraint: "
        "Member must have length greater than or equal to 7"
    )
    assert "short" not in p.message and p.violations[0].sensitive
    long = predict_validation("CreateCustomKeyStore", {"CustomKeyStoreName": "n", "KeyStorePassword": "p" * 33})
    assert long.message.endswith("Value at 'keyStorePassword' failed to satisfy constraint: Member must have length less than or equal to 32")


def test_missing_required_is_value_null():
    for op in ("UpdateCustomKeyStore", "ConnectCustomKeyStore", "DisconnectCustomKeyStore", "DeleteCustomKeyStore"):
        p = predict_validation(op, {})
        assert p.message == (
            "1 validation error detected: Value null at 'customKeyStoreId' failed to satisfy constraint: "
            "Member must not be null"
        )
    # JSON null is the same as absent.
    assert predict_validation("ConnectCustomKeyStore", {"CustomKeyStoreId": None}).paths == ["customKeyStoreId"]
    assert predict_validation("DescribeCustomKeyStores", {}) is None


def test_valid_input_returns_none_and_unknown_members_are_ignored():
    assert predict_validation("UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-1234567890abcdef0", "Bogus": "x" * 9999}) is None
    create = {"CustomKeyStoreName": "s", "CloudHsmClusterId": "cluster-234abcdefgh",
              "TrustAnchorCertificate": "c", "KeyStorePassword": "kmsPswd"}
    assert predict_validation("CreateCustomKeyStore", create) is None
    # The botocore/dev-guide example id has a '1', which today's pattern rejects (2019-12 had no pattern).
    example = {**create, "CloudHsmClusterId": "cluster-1a23b4cdefg"}
    assert predict_validation("CreateCustomKeyStore", example).violations[0].constraint == "pattern"
    assert predict_validation("CreateCustomKeyStore", example, edition="2019-12") is None


def test_nested_structure_paths_and_several_violations():
    p = predict_validation("CreateCustomKeyStore", {
        "CustomKeyStoreName": "", "CloudHsmClusterId": "nope",
        "XksProxyAuthenticationCredential": {"AccessKeyId": "ABCDE12345670EXAMPLE"}})
    assert p.message.startswith("5 validation errors detected: ")
    assert p.paths == ["customKeyStoreName", "cloudHsmClusterId", "cloudHsmClusterId",
                       "xksProxyAuthenticationCredential.accessKeyId",
                       "xksProxyAuthenticationCredential.rawSecretAccessKey"]
    texts = [v.text for v in p.violations]
    assert "Value at 'xksProxyAuthenticationCredential.accessKeyId' failed to satisfy constraint: " \
           "Member must satisfy regular expression pattern: ^[A-Z2-7]+$" in texts
    assert "Value 'nope' at 'cloudHsmClusterId' failed to satisfy constraint: " \
           "Member must satisfy regular expression pattern: cluster-[2-7a-zA-Z]{11,16}" in texts
    assert not p.certain and any("order of the violations" in u for u in p.uncertainty)
    # Any order of the clauses is accepted; a missing or foreign clause is not.
    shuffled = texts[::-1]
    assert p.matches("5 validation errors detected: " + "; ".join(shuffled))
    assert not p.matches("4 validation errors detected: " + "; ".join(shuffled[:4]))
    assert not p.matches("5 validation errors detected: " + "; ".join(shuffled[:4] + [shuffled[0]]))


def test_list_items_are_one_based():
    p = predict_validation("CreateKey", {"Tags": [{"TagKey": "ok", "TagValue": "ok"}, {"TagKey": "", "TagValue": "x"}]})
    assert p.paths == ["tags.2.member.tagKey"]


def test_pattern_text_follows_the_given_model():
    params = {"CustomKeyStoreId": "cks-1", "CloudHsmClusterId": "cluster-!!!!!!!!!!!!"}
    boto = predict_validation("UpdateCustomKeyStore", params)
    smithy = predict_validation("UpdateCustomKeyStore", params, model=load_model("smithy"))
    assert boto.message.endswith("regular expression pattern: cluster-[2-7a-zA-Z]{11,16}")
    assert smithy.message.endswith("regular expression pattern: ^cluster-[2-7a-zA-Z]{11,16}$")


def test_editions_change_the_verdict():
    params = {"CustomKeyStoreId": "cks-1", "KeyStorePassword": "abc"}
    assert predict_validation("UpdateCustomKeyStore", params, edition="2019-12") is None
    assert predict_validation("UpdateCustomKeyStore", params) is not None
    old_create = predict_validation("CreateCustomKeyStore", {"CustomKeyStoreName": "n"}, edition="2019-12")
    assert sorted(old_create.paths) == ["cloudHsmClusterId", "keyStorePassword", "trustAnchorCertificate"]
    # In 2019-12 there is no XKS: those members are unknown and so ignored.
    assert predict_validation("UpdateCustomKeyStore", {"CustomKeyStoreId": "c", "XksProxyUriPath": "x"}, edition="2019-12") is None
    assert predict_validation("UpdateCustomKeyStore", {"CustomKeyStoreId": "c", "XksProxyUriPath": "x"}) is not None
    assert predict_validation("UpdateCustomKeyStore", params, model=edition_model("2019-12")) is None


def test_wrong_types_are_not_validation_errors():
    params = {"CustomKeyStoreId": 5, "KeyStorePassword": "abc"}
    p = predict_validation("UpdateCustomKeyStore", params)
    assert p.paths == ["keyStorePassword"]  # the integer id is left to SerializationException
    assert type_mismatches("UpdateCustomKeyStore", params) == ["customKeyStoreId"]
    assert type_mismatches("DescribeCustomKeyStores", {"Limit": "5", "Marker": 3}) == ["limit", "marker"]
    assert type_mismatches("DescribeCustomKeyStores", {"Limit": True}) == ["limit"]
    assert type_mismatches("DescribeCustomKeyStores", []) == [""]
    assert type_mismatches("CreateKey", {"Tags": [{"TagKey": 1, "TagValue": "v"}]}) == ["tags.1.member.tagKey"]
    assert type_mismatches("UpdateCustomKeyStore", {"CustomKeyStoreId": "c"}) == []


def test_describe_limit_and_marker_bounds():
    p = predict_validation("DescribeCustomKeyStores", {"Limit": 1001, "Marker": ""})
    assert sorted(v.text for v in p.violations) == sorted([
        "Value '1001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000",
        "Value '' at 'marker' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ])
    assert predict_validation("DescribeCustomKeyStores", {"Marker": "\u0100"}).violations[0].constraint == "pattern"


def test_blob_accepts_wire_base64_and_bytes():
    import base64

    wire = {"KeyId": "k", "Plaintext": base64.b64encode(b"p" * 4097).decode()}
    assert predict_validation("Encrypt", wire).message == predict_validation("Encrypt", {"KeyId": "k", "Plaintext": b"p" * 4097}).message
    assert type_mismatches("Encrypt", {"KeyId": "k", "Plaintext": "***not base64***"}) == ["plaintext"]


def test_unknown_operation_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown operation 'NoSuchThing'"):
        predict_validation("NoSuchThing", {})


def test_message_pattern_is_a_valid_anchored_regex():
    p = predict_validation("GenerateRandom", {"NumberOfBytes": 0})
    assert re.fullmatch(p.message_pattern, p.message)
    assert not p.matches(p.message + " ")
    assert not p.matches(None)


def test_prediction_to_dict_is_json_and_keeps_secrets_out():
    import json

    p = predict_validation("CreateCustomKeyStore", {"CustomKeyStoreName": "n", "KeyStorePassword": "sekrit", "CustomKeyStoreType": "X"})
    text = json.dumps(p.to_dict())
    assert "sekrit" not in text
    d = json.loads(text)
    assert d["error_code"] == "ValidationException" and d["status"] == 400
    assert [v["path"] for v in d["violations"]] == ["keyStorePassword", "customKeyStoreType"]
    assert d["violations"][1]["bound"] == ["AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"]


def test_pattern_message_matches_the_widely_copied_kms_form():
    # moto's KMS text (fact sheet §2: "the standard Coral form").
    p = predict_validation("CreateAlias", {"AliasName": "alias/b@d", "TargetKeyId": "k"})
    assert p.message == ("1 validation error detected: Value 'alias/b@d' at 'aliasName' failed to satisfy constraint: "
                         "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$")


def test_service_logic_messages_are_outside_the_model():
    # "NumberOfBytes is required." and the alias/ prefix rule are KMS logic, not model constraints:
    # the oracle does not invent them (the reference emulator / cases own them).
    assert predict_validation("GenerateRandom", {}) is None
    assert predict_validation("CreateAlias", {"AliasName": "noprefix", "TargetKeyId": "k"}) is None


def test_astral_characters_flag_the_length_unit():
    p = predict_validation("UpdateCustomKeyStore", {"CustomKeyStoreId": "\U0001d413" * 65})
    assert p.violations[0].constraint == "max_length"
    assert not p.certain and any("UTF-16" in u for u in p.uncertainty)
    assert predict_validation("UpdateCustomKeyStore", {"CustomKeyStoreId": "\U0001d413" * 64}) is None


def test_map_entries_are_checked_and_flagged():
    model = load_model()
    value_shape = model.shapes[model.shapes["EncryptionContextType"].map_value]
    tight = dataclasses.replace(model, shapes={**model.shapes, value_shape.name: dataclasses.replace(value_shape, max_length=2)})
    p = predict_validation("Encrypt", {"KeyId": "k", "Plaintext": b"x", "EncryptionContext": {"a": "long", "b": "ok"}}, model=tight)
    assert p.paths == ["encryptionContext.a"]
    assert not p.certain and any("map entries" in u for u in p.uncertainty)
