//! # canh-rules
//!
//! Rule packs on disk — YARA files, Sigma rules, IOC lists and a `pack.toml` — validated with
//! `file:line:col` errors and compiled into ready matchers: one `yara_x::Rules` for artifacts,
//! Sigma rules indexed by logsource with the field map that lets generic categories (dns,
//! proxy, webserver, …) reach the sensor's Zeek-named records, and IOC sets. Also home of
//! Canh's own `vn-gov` pack.
//!
//! Empty until the detection issue (#3) lands; the sensor's record schema
//! (`canh_sensor::record`) is what its field maps will target.
