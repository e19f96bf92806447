"""The certificate's and the correction request's status machines, edge by edge: every
allowed edge moves, every other pair of statuses is refused."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace

import pytest

from app.certificates.models import (
    CERTIFICATE_STATES,
    CORRECTION_STATES,
    CertificateStatus,
    CorrectionStatus,
)
from app.kernel.states import IllegalTransition

C = CertificateStatus
CERTIFICATE_EDGES = {(C.ISSUING, C.VALID), (C.ISSUING, C.REVOKED), (C.VALID, C.REVOKED)}
R = CorrectionStatus
CORRECTION_EDGES = {(R.OPEN, R.ANSWERED)}


def test_the_certificate_machine_has_exactly_the_documented_edges() -> None:
    assert set(CERTIFICATE_STATES.edges) == CERTIFICATE_EDGES
    assert CERTIFICATE_STATES.statuses == {s.value for s in C}


def test_the_correction_machine_has_exactly_the_documented_edges() -> None:
    assert set(CORRECTION_STATES.edges) == CORRECTION_EDGES
    assert CORRECTION_STATES.statuses == {s.value for s in R}


@pytest.mark.parametrize(("current", "target"), sorted(product(C, C)))
def test_a_certificate_moves_only_along_its_edges(current: C, target: C) -> None:
    certificate = SimpleNamespace(status=current.value)
    if (current, target) in CERTIFICATE_EDGES:
        assert CERTIFICATE_STATES.move(certificate, target) == current.value
        assert certificate.status == target
    else:
        with pytest.raises(IllegalTransition):
            CERTIFICATE_STATES.move(certificate, target)
        assert certificate.status == current.value


@pytest.mark.parametrize(("current", "target"), sorted(product(R, R)))
def test_a_correction_request_moves_only_along_its_edges(current: R, target: R) -> None:
    request = SimpleNamespace(status=current.value)
    if (current, target) in CORRECTION_EDGES:
        assert CORRECTION_STATES.move(request, target) == current.value
        assert request.status == target
    else:
        with pytest.raises(IllegalTransition):
            CORRECTION_STATES.move(request, target)
        assert request.status == current.value


def test_a_revoked_certificate_never_becomes_valid_again() -> None:
    assert CERTIFICATE_STATES.targets(C.REVOKED) == []
