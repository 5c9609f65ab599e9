//! The demo's province: Lâm Đồng as the July 2025 reorganisation made it (Lâm Đồng, Đắk Nông
//! and Bình Thuận merged; two tiers of local government, province and commune), with some of
//! its departments and wards, and one account per role with a password made for this run.

use crate::state::user::Role;
use crate::state::{Actor, State, StateError, org, totp, user};

/// The province's organizations: code, name, parent.
pub const ORGS: &[(&str, &str, Option<&str>)] = &[
    ("tinh-lam-dong", "UBND tỉnh Lâm Đồng", None),
    ("vp-ubnd", "Văn phòng UBND tỉnh", Some("tinh-lam-dong")),
    ("so-khcn", "Sở Khoa học và Công nghệ", Some("tinh-lam-dong")),
    ("ttcntt-cds", "Trung tâm Công nghệ thông tin và Chuyển đổi số", Some("so-khcn")),
    ("so-tai-chinh", "Sở Tài chính", Some("tinh-lam-dong")),
    ("so-noi-vu", "Sở Nội vụ", Some("tinh-lam-dong")),
    ("cong-an-tinh", "Công an tỉnh Lâm Đồng", Some("tinh-lam-dong")),
    ("phuong-xuan-huong-da-lat", "Phường Xuân Hương – Đà Lạt", Some("tinh-lam-dong")),
    ("phuong-lam-vien-da-lat", "Phường Lâm Viên – Đà Lạt", Some("tinh-lam-dong")),
    ("phuong-phan-thiet", "Phường Phan Thiết", Some("tinh-lam-dong")),
    ("phuong-bac-gia-nghia", "Phường Bắc Gia Nghĩa", Some("tinh-lam-dong")),
];

/// The organization the demo's sensor watches (its records and alerts carry it).
pub const SENSOR_ORG: &str = "so-khcn";

/// One account per role: name, role, organization.
pub const ACCOUNTS: &[(&str, Role, &str)] = &[
    ("quantri", Role::Admin, "tinh-lam-dong"),
    ("soc.tinh", Role::Analyst, "tinh-lam-dong"),
    ("chuquan.khcn", Role::SystemOwner, "so-khcn"),
    ("thamdinh", Role::Appraiser, "cong-an-tinh"),
    ("pheduyet", Role::Approver, "tinh-lam-dong"),
    ("kiemtoan", Role::Auditor, "tinh-lam-dong"),
];

/// An account as made for this run.
pub struct Account {
    pub name: &'static str,
    pub role: Role,
    pub org: &'static str,
    pub password: String,
    /// The admin's second factor: the base32 secret and its `otpauth://` address.
    pub totp: Option<(String, String)>,
}

/// A password that meets Circular 03/2017's rule, from the operating system's random source.
fn password() -> String {
    // 8 letters (37 bits) and 4 digits (13 bits); the slight bias of `%` costs nothing here.
    let bytes = crate::state::random_bytes::<12>();
    let letters: String = bytes[..8].iter().map(|b| char::from(b'a' + b % 26)).collect();
    let digits: String = bytes[8..].iter().map(|b| char::from(b'0' + b % 10)).collect();
    format!("Canh@{letters}{digits}")
}

/// Makes the province and its accounts in `state`.
pub fn make(state: &mut State) -> Result<Vec<Account>, StateError> {
    let actor = Actor::cli();
    let accounts: Vec<Account> = ACCOUNTS
        .iter()
        .map(|&(name, role, org)| Account { name, role, org, password: password(), totp: None })
        .collect();
    state.change(|tx| {
        for (code, name, parent) in ORGS {
            org::add(tx, &actor, code, name, *parent)?;
        }
        for a in &accounts {
            user::add(tx, &actor, a.name, a.role, a.org, &a.password)?;
        }
        Ok(())
    })?;
    let mut accounts = accounts;
    for a in accounts.iter_mut().filter(|a| a.role == Role::Admin) {
        a.totp = Some(state.change(|tx| totp::enroll(tx, &actor, a.name, "Canh demo"))?);
    }
    Ok(accounts)
}
