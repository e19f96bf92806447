"""The case status table: every allowed edge, and every other move refused."""

import itertools

import pytest

from app.cases.workflow import EDGES, CaseRules, CaseStatus, StepOrder, allowed_targets, can_move

S = CaseStatus
PAY_FIRST = CaseRules(StepOrder.PAY_THEN_REGISTER, issues_certificate=True)
REGISTER_FIRST = CaseRules(StepOrder.REGISTER_THEN_PAY, issues_certificate=True)
PAY_FIRST_NO_CERT = CaseRules(StepOrder.PAY_THEN_REGISTER, issues_certificate=False)
REGISTER_FIRST_NO_CERT = CaseRules(StepOrder.REGISTER_THEN_PAY, issues_certificate=False)
ALL_RULES = [PAY_FIRST, REGISTER_FIRST, PAY_FIRST_NO_CERT, REGISTER_FIRST_NO_CERT]

COMMON = {
    (S.DRAFT, S.SUBMITTED), (S.SUBMITTED, S.ACCEPTED), (S.SUBMITTED, S.RETURNED),
    (S.ACCEPTED, S.RETURNED), (S.RETURNED, S.SUBMITTED), (S.ACCEPTED, S.FEES_ASSESSED),
    (S.CERTIFICATE_ISSUED, S.ARCHIVED),
    (S.DRAFT, S.WITHDRAWN), (S.SUBMITTED, S.WITHDRAWN), (S.RETURNED, S.WITHDRAWN),
    (S.ACCEPTED, S.WITHDRAWN), (S.FEES_ASSESSED, S.WITHDRAWN),
    (S.SUBMITTED, S.REJECTED), (S.RETURNED, S.REJECTED), (S.ACCEPTED, S.REJECTED),
    (S.FEES_ASSESSED, S.REJECTED),
}
EXPECTED = {
    PAY_FIRST: COMMON | {(S.FEES_ASSESSED, S.PAID), (S.PAID, S.REGISTERED),
                         (S.REGISTERED, S.CERTIFICATE_ISSUED), (S.PAID, S.REJECTED)},
    PAY_FIRST_NO_CERT: COMMON | {(S.FEES_ASSESSED, S.PAID), (S.PAID, S.REGISTERED),
                                 (S.REGISTERED, S.ARCHIVED), (S.PAID, S.REJECTED)},
    REGISTER_FIRST: COMMON | {(S.FEES_ASSESSED, S.REGISTERED), (S.REGISTERED, S.PAID),
                              (S.PAID, S.CERTIFICATE_ISSUED)},
    REGISTER_FIRST_NO_CERT: COMMON | {(S.FEES_ASSESSED, S.REGISTERED), (S.REGISTERED, S.PAID),
                                      (S.PAID, S.ARCHIVED)},
}


@pytest.mark.parametrize("rules", ALL_RULES, ids=lambda r: f"{r.step_order}-{r.issues_certificate}")
def test_exactly_the_expected_moves_are_allowed(rules):
    for current, target in itertools.product(CaseStatus, CaseStatus):
        assert can_move(current, target, rules) == ((current, target) in EXPECTED[rules]), (
            current, target)


def test_every_edge_in_the_table_is_expected_for_some_business_type():
    assert set(EDGES) == set().union(*EXPECTED.values())


def test_final_states_have_no_way_out():
    for rules in ALL_RULES:
        for final in (S.REJECTED, S.WITHDRAWN, S.ARCHIVED):
            assert allowed_targets(final, rules) == []


def test_a_certificate_is_never_issued_before_payment():
    for rules in ALL_RULES:
        for current, target in EXPECTED[rules]:
            if target == S.CERTIFICATE_ISSUED:
                assert current == S.PAID or (S.PAID, S.REGISTERED) in EXPECTED[rules]


def test_every_status_has_a_chinese_label():
    assert {s.label for s in CaseStatus} >= {"草稿", "待缴费", "已登簿", "不予登记"}
