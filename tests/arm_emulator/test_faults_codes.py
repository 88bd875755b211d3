"""Injected 401 and 403 faults answer with ARM's own codes and sentences, so the gateway's
handling of an expired token or a missing role assignment is tested against what ARM sends."""

from contoso_images.arm_emulator import errors, faults


def test_injected_401_is_invalid_authentication_token():
    err = faults.Fault(401).error(0.0)
    assert err.status == 401
    assert err.payload()["code"] == "InvalidAuthenticationToken"
    assert "WWW-Authenticate" in err.headers


def test_injected_403_names_action_and_scope_as_arm_does():
    vm = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
    err = errors.authorization_failed("POST", vm + "/deallocate")
    body = err.payload()
    assert body["code"] == "AuthorizationFailed"
    assert "'Microsoft.Compute/virtualMachines/deallocate/action'" in body["message"]
    assert f"over scope '{vm}'" in body["message"]
    read = errors.authorization_failed("GET", vm).payload()["message"]
    assert "'Microsoft.Compute/virtualMachines/read'" in read
