//! The level dossier (hồ sơ đề xuất cấp độ) and its workflow, as Decree 331 Art. 18, 20, 23
//! and 24 set it (regime-2026.md §3.2), with Decree 85's for the systems that transition
//! under it (regulation.md §2.1, §2.4):
//!
//! ```text
//! draft ─(L4–5) opinion_requested ─▶ draft ─▶ submitted ─(5 WD: incomplete?)─▶ returned ─▶ submitted
//!                                          └▶ under_appraisal (L3 15 WD, L4–5 25 WD; Decree 85: 15/30 days)
//!                                             ─▶ appraised (suitable) ─(L5) awaiting_list ─▶ submitted_for_approval (7 WD)
//!                                             └▶ returned (not yet suitable)                 ─▶ approved | returned
//! ```
//!
//! Every transition says who (which role), when, why and the deadline of the step it opens.
//! Approval is gated: the security regulation issued (Art. 30.7), the risk assessment done
//! (Art. 10.2.a), the appraisal opinion attached at level ≥ 3 (Art. 24.1.b), the professional
//! opinion at levels 4–5 (Art. 21.5). Several level 1–2 systems of one owner may share one
//! dossier (Art. 22.4.a).

pub mod authority;
pub mod triggers;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::calendar::WorkCalendar;
use crate::level::Level;
use crate::regime::Regime;

/// Where a dossier stands. The names are Form 08's where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Draft,
    /// The professional opinion of the owner's cybersecurity unit is asked (levels 4–5).
    OpinionRequested,
    /// Filed with the appraiser, who checks it is complete within 5 working days.
    Submitted,
    /// Returned for completion (or found not yet suitable, or returned by the approver).
    Returned,
    UnderAppraisal,
    /// The appraisal opinion found it suitable.
    Appraised,
    /// Level 5: waiting for the Prime Minister's List.
    AwaitingList,
    SubmittedForApproval,
    Approved,
    Withdrawn,
}

impl Stage {
    pub const ALL: [Stage; 10] = [
        Stage::Draft,
        Stage::OpinionRequested,
        Stage::Submitted,
        Stage::Returned,
        Stage::UnderAppraisal,
        Stage::Appraised,
        Stage::AwaitingList,
        Stage::SubmittedForApproval,
        Stage::Approved,
        Stage::Withdrawn,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Stage::Draft => "draft",
            Stage::OpinionRequested => "opinion_requested",
            Stage::Submitted => "submitted",
            Stage::Returned => "returned",
            Stage::UnderAppraisal => "under_appraisal",
            Stage::Appraised => "appraised",
            Stage::AwaitingList => "awaiting_list",
            Stage::SubmittedForApproval => "submitted_for_approval",
            Stage::Approved => "approved",
            Stage::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|st| st.key() == s)
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Stage::Draft => "Đang dự thảo",
            Stage::OpinionRequested => "Đang xin ý kiến chuyên môn",
            Stage::Submitted => "Đã gửi thẩm định",
            Stage::Returned => "Trả lại để hoàn thiện",
            Stage::UnderAppraisal => "Đang thẩm định",
            Stage::Appraised => "Đã thẩm định",
            Stage::AwaitingList => "Chờ Thủ tướng phê duyệt Danh mục",
            Stage::SubmittedForApproval => "Đã trình phê duyệt",
            Stage::Approved => "Đã được phê duyệt",
            Stage::Withdrawn => "Đã rút",
        }
    }

    /// Form 08 column 6: the approval status as the form lists it.
    pub fn form08_status(self) -> &'static str {
        match self {
            Stage::Draft | Stage::OpinionRequested | Stage::Returned | Stage::Withdrawn => "Đang dự thảo",
            Stage::Submitted | Stage::UnderAppraisal => "Đã gửi thẩm định",
            Stage::Appraised | Stage::AwaitingList | Stage::SubmittedForApproval => "Đã thẩm định",
            Stage::Approved => "Đã được phê duyệt",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, Stage::Approved | Stage::Withdrawn)
    }
}

/// The part a person plays on a dossier (the console maps its roles and organizations here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// The owner or its operating unit, who prepares and files (Art. 20.1).
    Preparer,
    /// The owner's cybersecurity unit giving the professional opinion (levels 4–5).
    Opinion,
    Appraiser,
    Approver,
}

/// What someone does to a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Action {
    RequestOpinion,
    GiveOpinion,
    Submit,
    /// The appraiser finds it incomplete (within 5 working days of filing).
    ReturnForCompletion,
    /// The appraiser finds it complete: the appraisal period starts.
    AcceptComplete,
    /// The appraisal opinion (Form 04): suitable, or not yet suitable.
    Appraise {
        suitable: bool,
    },
    /// Level 5: the Prime Minister's List includes it.
    Listed,
    SubmitForApproval,
    Approve {
        decision_number: String,
        decision_date: Date,
    },
    /// The approver returns it.
    ReturnByApprover,
    Withdraw,
}

impl Action {
    pub fn key(&self) -> &'static str {
        match self {
            Action::RequestOpinion => "request_opinion",
            Action::GiveOpinion => "give_opinion",
            Action::Submit => "submit",
            Action::ReturnForCompletion => "return_for_completion",
            Action::AcceptComplete => "accept_complete",
            Action::Appraise { suitable: true } => "appraise_suitable",
            Action::Appraise { suitable: false } => "appraise_not_suitable",
            Action::Listed => "listed",
            Action::SubmitForApproval => "submit_for_approval",
            Action::Approve { .. } => "approve",
            Action::ReturnByApprover => "return_by_approver",
            Action::Withdraw => "withdraw",
        }
    }

    /// Who may take it.
    pub fn part(&self) -> Part {
        match self {
            Action::RequestOpinion | Action::Submit | Action::SubmitForApproval | Action::Withdraw | Action::Listed => {
                Part::Preparer
            }
            Action::GiveOpinion => Part::Opinion,
            Action::ReturnForCompletion | Action::AcceptComplete | Action::Appraise { .. } => Part::Appraiser,
            Action::Approve { .. } | Action::ReturnByApprover => Part::Approver,
        }
    }

    /// Returning or finding not suitable must say why.
    pub fn needs_reason(&self) -> bool {
        matches!(
            self,
            Action::ReturnForCompletion
                | Action::Appraise { suitable: false }
                | Action::ReturnByApprover
                | Action::Withdraw
        )
    }
}

/// The security regulation (quy chế bảo đảm an ninh mạng) issued: number and date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    pub number: String,
    pub date: Date,
}

/// A dossier's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dossier {
    pub regime: Regime,
    pub level: Level,
    /// The system codes it covers: one, or several level 1–2 systems (Art. 22.4.a).
    pub systems: Vec<String>,
    pub stage: Stage,
    /// The day the current stage began.
    pub since: Date,
    /// The statutory deadline of the current stage, if it has one.
    pub due: Option<Date>,
    pub opinion_given: bool,
    /// The appraisal opinion's conclusion, once given.
    pub appraisal_suitable: Option<bool>,
    pub listed: bool,
    pub regulation: Option<Issued>,
    pub risk_assessment_done: bool,
    pub decision: Option<Issued>,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum Refusal {
    #[error("`{action}` cannot be taken on a dossier that is {stage}")]
    WrongStage { action: &'static str, stage: &'static str },
    #[error("`{action}` is the {expected:?}'s step")]
    NotYourStep { action: &'static str, expected: Part },
    #[error("`{0}` needs a reason")]
    NeedsReason(&'static str),
    #[error("approval needs: {}", .0.join("; "))]
    MissingPreconditions(Vec<String>),
    #[error("a combined dossier holds only level 1–2 systems (Art. 22.4.a)")]
    CombinedAboveLevel2,
    #[error("levels 4–5 need the professional opinion of the cybersecurity unit before filing (Art. 20.1.d, 21.5)")]
    OpinionFirst,
    #[error("a professional opinion is asked only at levels 4–5")]
    NoOpinionAtThisLevel,
    #[error("a dossier covers at least one system")]
    NoSystem,
}

/// A recorded step: who, when, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub from: Stage,
    pub to: Stage,
    pub action: String,
    pub part: Part,
    pub on: Date,
    pub reason: String,
    /// The deadline of the stage entered.
    pub due: Option<Date>,
}

impl Dossier {
    /// A new draft.
    pub fn new(regime: Regime, level: Level, systems: Vec<String>, on: Date) -> Result<Self, Refusal> {
        if systems.is_empty() {
            return Err(Refusal::NoSystem);
        }
        if systems.len() > 1 && level.number() > 2 {
            return Err(Refusal::CombinedAboveLevel2);
        }
        Ok(Self {
            regime,
            level,
            systems,
            stage: Stage::Draft,
            since: on,
            due: None,
            opinion_given: false,
            appraisal_suitable: None,
            listed: false,
            regulation: None,
            risk_assessment_done: false,
            decision: None,
        })
    }

    fn needs_opinion(&self) -> bool {
        self.level.number() >= 4
    }

    /// The deadline of entering `stage` on `on`.
    pub fn deadline(&self, stage: Stage, on: Date, cal: &WorkCalendar) -> Option<Date> {
        let n = self.level.number();
        match stage {
            // Art. 23.2 (and Circular 03 Art. 14.3 under Decree 85): 5 working days to flag.
            Stage::Submitted => Some(cal.add_working_days(on, 5)),
            Stage::UnderAppraisal => match (self.regime, n) {
                (_, 1 | 2) => None,
                (Regime::Nd331, 3) => Some(cal.add_working_days(on, 15)),
                (Regime::Nd331, _) => Some(cal.add_working_days(on, 25)),
                (Regime::Nd85, 3) => Some(cal.add_calendar_days(on, 15)),
                (Regime::Nd85, _) => Some(cal.add_calendar_days(on, 30)),
            },
            Stage::SubmittedForApproval => Some(cal.add_working_days(on, 7)),
            _ => None,
        }
    }

    /// What approval still lacks.
    pub fn missing_preconditions(&self) -> Vec<String> {
        let mut missing = Vec::new();
        if self.regime == Regime::Nd331 {
            if self.regulation.is_none() {
                missing.push("quy chế bảo đảm an ninh mạng chưa ban hành (Điều 30.7)".to_string());
            }
            if !self.risk_assessment_done {
                missing.push("chưa đánh giá rủi ro lần đầu (Điều 10.2.a)".to_string());
            }
        }
        if self.level.number() >= 3 && self.appraisal_suitable != Some(true) {
            missing.push("chưa có ý kiến thẩm định phù hợp (Điều 24.1.b)".to_string());
        }
        if self.needs_opinion() && !self.opinion_given {
            missing.push("chưa có ý kiến chuyên môn của đơn vị chuyên trách (Điều 21.5)".to_string());
        }
        if self.level.number() == 5 && !self.listed {
            missing.push("chưa được Thủ tướng phê duyệt vào Danh mục (Điều 18.3.đ)".to_string());
        }
        missing
    }

    /// Take `action` as `part` on `on`: the dossier after it and the transition to record.
    pub fn apply(
        &self,
        action: &Action,
        part: Part,
        reason: &str,
        on: Date,
        cal: &WorkCalendar,
    ) -> Result<(Dossier, Transition), Refusal> {
        let name = action.key();
        if action.part() != part {
            return Err(Refusal::NotYourStep { action: name, expected: action.part() });
        }
        if action.needs_reason() && reason.trim().is_empty() {
            return Err(Refusal::NeedsReason(name));
        }
        let wrong = || Refusal::WrongStage { action: name, stage: self.stage.key() };
        let mut next = self.clone();
        let to = match (self.stage, action) {
            (Stage::Draft | Stage::Returned, Action::RequestOpinion) => {
                if !self.needs_opinion() {
                    return Err(Refusal::NoOpinionAtThisLevel);
                }
                Stage::OpinionRequested
            }
            (Stage::OpinionRequested, Action::GiveOpinion) => {
                next.opinion_given = true;
                Stage::Draft
            }
            (Stage::Draft | Stage::Returned, Action::Submit) => {
                if self.needs_opinion() && !self.opinion_given {
                    return Err(Refusal::OpinionFirst);
                }
                Stage::Submitted
            }
            (Stage::Submitted, Action::ReturnForCompletion) => Stage::Returned,
            (Stage::Submitted, Action::AcceptComplete) => Stage::UnderAppraisal,
            (Stage::UnderAppraisal, Action::Appraise { suitable }) => {
                next.appraisal_suitable = Some(*suitable);
                if *suitable { Stage::Appraised } else { Stage::Returned }
            }
            (Stage::Appraised, Action::SubmitForApproval) if self.level.number() == 5 && !self.listed => {
                Stage::AwaitingList
            }
            (Stage::AwaitingList, Action::Listed) => {
                next.listed = true;
                Stage::Appraised
            }
            (Stage::Appraised, Action::SubmitForApproval) => Stage::SubmittedForApproval,
            (Stage::SubmittedForApproval, Action::Approve { decision_number, decision_date }) => {
                let missing = self.missing_preconditions();
                if !missing.is_empty() {
                    return Err(Refusal::MissingPreconditions(missing));
                }
                next.decision = Some(Issued { number: decision_number.clone(), date: *decision_date });
                Stage::Approved
            }
            (Stage::SubmittedForApproval, Action::ReturnByApprover) => Stage::Returned,
            (stage, Action::Withdraw) if !stage.is_final() => Stage::Withdrawn,
            _ => return Err(wrong()),
        };
        // Returned: the next filing is appraised afresh.
        if to == Stage::Returned {
            next.appraisal_suitable = if matches!(action, Action::Appraise { .. }) { Some(false) } else { None };
        }
        next.stage = to;
        next.since = on;
        next.due = self.deadline(to, on, cal);
        let transition = Transition {
            from: self.stage,
            to,
            action: name.to_string(),
            part,
            on,
            reason: reason.to_string(),
            due: next.due,
        };
        Ok((next, transition))
    }

    /// Working days past the current stage's deadline (positive), if any.
    pub fn overdue(&self, today: Date, cal: &WorkCalendar) -> Option<i64> {
        let due = self.due.filter(|_| !self.stage.is_final())?;
        let left = cal.working_days_left(today, due);
        (left < 0).then_some(-left)
    }

    /// The transition deadline this dossier must meet as a whole: Decree 85 dossiers are
    /// approved by 31/12/2026 (Decree 331 Art. 39.1).
    pub fn regime_deadline(&self) -> Option<Date> {
        self.regime.approval_deadline().filter(|_| self.stage != Stage::Approved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn lv(n: u8) -> Level {
        Level::new(n).unwrap()
    }

    fn step(d: &Dossier, action: Action, part: Part, on: Date) -> Dossier {
        d.apply(&action, part, "lý do", on, &WorkCalendar::default()).unwrap_or_else(|e| panic!("{action:?}: {e}")).0
    }

    #[test]
    fn level_3_from_draft_to_approval_with_deadlines() {
        let cal = WorkCalendar::default();
        let mut d = Dossier::new(Regime::Nd331, lv(3), vec!["mot-cua".into()], date!(2026 - 11 - 02)).unwrap();
        d = step(&d, Action::Submit, Part::Preparer, date!(2026 - 11 - 02));
        assert_eq!((d.stage, d.due), (Stage::Submitted, Some(date!(2026 - 11 - 09))));
        d = step(&d, Action::ReturnForCompletion, Part::Appraiser, date!(2026 - 11 - 05));
        assert_eq!(d.stage, Stage::Returned);
        d = step(&d, Action::Submit, Part::Preparer, date!(2026 - 11 - 20));
        d = step(&d, Action::AcceptComplete, Part::Appraiser, date!(2026 - 11 - 23));
        // 15 working days from a complete dossier.
        assert_eq!((d.stage, d.due), (Stage::UnderAppraisal, Some(date!(2026 - 12 - 14))));
        assert_eq!(d.overdue(date!(2026 - 12 - 15), &cal), Some(1));
        assert_eq!(d.overdue(date!(2026 - 12 - 14), &cal), None);
        d = step(&d, Action::Appraise { suitable: true }, Part::Appraiser, date!(2026 - 12 - 10));
        d = step(&d, Action::SubmitForApproval, Part::Preparer, date!(2026 - 12 - 11));
        assert_eq!(d.due, Some(date!(2026 - 12 - 22)));
        // Approval is gated: no regulation, no risk assessment yet.
        let approve = Action::Approve { decision_number: "123/QĐ-UBND".into(), decision_date: date!(2026 - 12 - 18) };
        let err = d.apply(&approve, Part::Approver, "", date!(2026 - 12 - 18), &cal).unwrap_err();
        let Refusal::MissingPreconditions(missing) = err else { panic!("{err:?}") };
        assert_eq!(missing.len(), 2, "{missing:?}");
        d.regulation = Some(Issued { number: "45/QĐ-SKHCN".into(), date: date!(2026 - 10 - 01) });
        d.risk_assessment_done = true;
        let (approved, t) = d.apply(&approve, Part::Approver, "", date!(2026 - 12 - 18), &cal).unwrap();
        assert_eq!((approved.stage, t.from, t.part), (Stage::Approved, Stage::SubmittedForApproval, Part::Approver));
        assert_eq!(approved.decision.unwrap().number, "123/QĐ-UBND");
        assert_eq!(approved.stage.form08_status(), "Đã được phê duyệt");
    }

    #[test]
    fn levels_4_and_5_need_the_opinion_and_longer_appraisal() {
        let cal = WorkCalendar::default();
        let d = Dossier::new(Regime::Nd331, lv(4), vec!["lgsp".into()], date!(2026 - 11 - 02)).unwrap();
        assert_eq!(
            d.apply(&Action::Submit, Part::Preparer, "", date!(2026 - 11 - 02), &cal).unwrap_err(),
            Refusal::OpinionFirst
        );
        let d = step(&d, Action::RequestOpinion, Part::Preparer, date!(2026 - 11 - 02));
        // Only the cybersecurity unit gives it.
        assert!(matches!(
            d.apply(&Action::GiveOpinion, Part::Preparer, "", date!(2026 - 11 - 03), &cal),
            Err(Refusal::NotYourStep { .. })
        ));
        let d = step(&d, Action::GiveOpinion, Part::Opinion, date!(2026 - 11 - 06));
        let d = step(&d, Action::Submit, Part::Preparer, date!(2026 - 11 - 09));
        let d = step(&d, Action::AcceptComplete, Part::Appraiser, date!(2026 - 11 - 09));
        assert_eq!(d.due, Some(cal.add_working_days(date!(2026 - 11 - 09), 25)));
        // Level 5 waits for the Prime Minister's List before the owner approves the plan.
        let mut five = Dossier::new(Regime::Nd331, lv(5), vec!["x".into()], date!(2026 - 11 - 02)).unwrap();
        five.opinion_given = true;
        five.stage = Stage::Appraised;
        five.appraisal_suitable = Some(true);
        let five = step(&five, Action::SubmitForApproval, Part::Preparer, date!(2026 - 12 - 01));
        assert_eq!((five.stage, five.due), (Stage::AwaitingList, None));
        let five = step(&five, Action::Listed, Part::Preparer, date!(2027 - 01 - 15));
        let five = step(&five, Action::SubmitForApproval, Part::Preparer, date!(2027 - 01 - 15));
        assert_eq!(five.stage, Stage::SubmittedForApproval);
    }

    #[test]
    fn decree_85_counts_calendar_days_and_ends_31_december() {
        let d = Dossier::new(Regime::Nd85, lv(4), vec!["x".into()], date!(2026 - 11 - 02)).unwrap();
        let mut d = d;
        d.opinion_given = true;
        let d = step(&d, Action::Submit, Part::Preparer, date!(2026 - 11 - 02));
        let d = step(&d, Action::AcceptComplete, Part::Appraiser, date!(2026 - 11 - 02));
        // 30 days: 2/12/2026, a Wednesday.
        assert_eq!(d.due, Some(date!(2026 - 12 - 02)));
        assert_eq!(d.regime_deadline(), Some(date!(2026 - 12 - 31)));
        // No Art. 30.7 regulation gate under Decree 85, but the appraisal opinion still.
        assert_eq!(d.missing_preconditions(), ["chưa có ý kiến thẩm định phù hợp (Điều 24.1.b)"]);
    }

    #[test]
    fn refusals() {
        let cal = WorkCalendar::default();
        let on = date!(2026 - 11 - 02);
        assert_eq!(
            Dossier::new(Regime::Nd331, lv(3), vec!["a".into(), "b".into()], on).unwrap_err(),
            Refusal::CombinedAboveLevel2
        );
        let combined = Dossier::new(Regime::Nd331, lv(2), vec!["a".into(), "b".into()], on).unwrap();
        assert_eq!(
            combined.apply(&Action::RequestOpinion, Part::Preparer, "", on, &cal).unwrap_err(),
            Refusal::NoOpinionAtThisLevel
        );
        assert!(matches!(
            combined.apply(&Action::AcceptComplete, Part::Appraiser, "", on, &cal),
            Err(Refusal::WrongStage { .. })
        ));
        let submitted = step(&combined, Action::Submit, Part::Preparer, on);
        assert_eq!(
            submitted.apply(&Action::ReturnForCompletion, Part::Appraiser, " ", on, &cal).unwrap_err(),
            Refusal::NeedsReason("return_for_completion")
        );
        // Not yet suitable: back to the preparer, appraised afresh next time.
        let under = step(&submitted, Action::AcceptComplete, Part::Appraiser, on);
        assert_eq!(under.due, None, "no appraisal limit at levels 1–2");
        let back = step(&under, Action::Appraise { suitable: false }, Part::Appraiser, on);
        assert_eq!((back.stage, back.appraisal_suitable), (Stage::Returned, Some(false)));
        let withdrawn = step(&back, Action::Withdraw, Part::Preparer, on);
        assert!(withdrawn.apply(&Action::Withdraw, Part::Preparer, "x", on, &cal).is_err());
    }
}
