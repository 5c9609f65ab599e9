//! Live capture on a Linux interface: an `AF_PACKET` socket that Canh makes and configures
//! itself, then hands to pnet's datalink channel (`Config::socket_fd`) to read from.
//!
//! pnet's channel reads frames (`poll` + `recvfrom`, promiscuous, with fanout) but gives no
//! timestamps, no drop counters and no filter, and its default read buffer truncates frames
//! longer than 4 KiB (LIBRARIES.md §4.1). So, on the socket directly:
//!
//! - `SO_RCVBUFFORCE` (else `SO_RCVBUF`): a large kernel buffer (64 MiB by default) to ride out
//!   bursts; the read buffer holds 64 KiB + a header, so no frame is cut short;
//! - `SO_ATTACH_FILTER`: an optional classic BPF program ([`super::bpf`]), attached before the
//!   socket is bound, so that no unfiltered frame slips in;
//! - `PACKET_FANOUT` (through pnet) with `PACKET_FANOUT_HASH` and defragmentation: one socket per
//!   worker, the kernel hashing each flow — both directions alike — to one of them;
//! - `SIOCGSTAMPNS` after each frame: the kernel's receive time of that frame (an ioctl per
//!   frame; the clock of this host when the kernel gives none);
//! - `PACKET_STATISTICS`: frames the kernel received and dropped for this socket (reading them
//!   resets the kernel's counters; they are summed here).

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use pnet_datalink::{Channel, Config, DataLinkReceiver, FanoutOption, FanoutType, NetworkInterface};

use crate::time::Micros;

// From Linux's uapi headers (asm-generic/socket.h, linux/sockios.h, linux/if_packet.h); not
// all of them are in the libc crate for every target.
const SO_ATTACH_FILTER: libc::c_int = 26;
const SO_RCVBUFFORCE: libc::c_int = 33;
const SIOCGSTAMPNS: libc::c_ulong = 0x8907;
const PACKET_STATISTICS: libc::c_int = 6;
/// Linux's link type of Ethernet frames, as pcap numbers it.
pub const LINKTYPE_ETHERNET: u32 = 1;

#[repr(C)]
#[derive(Default)]
struct TpacketStats {
    packets: u32,
    drops: u32,
}

/// How to open the capture.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub iface: String,
    /// Bytes of the kernel's receive buffer per socket.
    pub buffer_bytes: usize,
    /// The fanout group joined by every socket of this capture (several sockets); `None` for
    /// one socket alone.
    pub fanout_group: Option<u16>,
    /// A classic BPF program, when only some traffic is wanted.
    pub filter: Option<Vec<libc::sock_filter>>,
}

impl LiveOptions {
    pub const DEFAULT_BUFFER: usize = 64 << 20;
}

/// What the kernel counted for a socket, and what Canh counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CaptureCounts {
    /// Frames the kernel handed to this socket.
    pub received: u64,
    /// Frames the kernel dropped for this socket (its buffer was full).
    pub kernel_dropped: u64,
}

impl CaptureCounts {
    pub fn add(&mut self, o: &CaptureCounts) {
        self.received += o.received;
        self.kernel_dropped += o.kernel_dropped;
    }
}

pub struct LiveSocket {
    rx: Box<dyn DataLinkReceiver>,
    fd: RawFd,
    counts: CaptureCounts,
    /// Whether the kernel gave a timestamp for the last frame (else the host's clock).
    pub kernel_timestamps: bool,
}

fn check(ret: libc::c_int, what: &str) -> io::Result<()> {
    if ret == -1 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("{what}: {e}")));
    }
    Ok(())
}

/// The interface named `name`, or an error listing those there are.
pub fn interface(name: &str) -> io::Result<NetworkInterface> {
    let all = pnet_datalink::interfaces();
    all.iter().find(|i| i.name == name).cloned().ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|i| i.name.as_str()).collect();
        io::Error::new(io::ErrorKind::NotFound, format!("no interface `{name}` (there are: {})", names.join(", ")))
    })
}

impl LiveSocket {
    pub fn open(opts: &LiveOptions) -> io::Result<Self> {
        let iface = interface(&opts.iface)?;
        // SAFETY: plain socket calls on a descriptor this function owns until pnet takes it.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, (libc::ETH_P_ALL as u16).to_be() as i32) };
        if fd == -1 {
            let e = io::Error::last_os_error();
            let hint = if e.kind() == io::ErrorKind::PermissionDenied {
                " (capture needs CAP_NET_RAW: run as root, or `setcap cap_net_raw,cap_net_admin=eip` on canh)"
            } else {
                ""
            };
            return Err(io::Error::new(e.kind(), format!("an AF_PACKET socket: {e}{hint}")));
        }
        let configured = (|| {
            let size = libc::c_int::try_from(opts.buffer_bytes).unwrap_or(libc::c_int::MAX);
            let set = |name, value: &libc::c_int| unsafe {
                libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    name,
                    (value as *const libc::c_int).cast(),
                    size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            // Beyond net.core.rmem_max needs CAP_NET_ADMIN; without it, as large as allowed.
            if set(SO_RCVBUFFORCE, &size) == -1 {
                check(set(libc::SO_RCVBUF, &size), "SO_RCVBUF")?;
            }
            if let Some(program) = &opts.filter {
                let prog = libc::sock_fprog {
                    len: u16::try_from(program.len()).map_err(|_| {
                        io::Error::new(io::ErrorKind::InvalidInput, "a BPF program over 65535 instructions")
                    })?,
                    filter: program.as_ptr().cast_mut(),
                };
                check(
                    unsafe {
                        libc::setsockopt(
                            fd,
                            libc::SOL_SOCKET,
                            SO_ATTACH_FILTER,
                            (&prog as *const libc::sock_fprog).cast(),
                            size_of::<libc::sock_fprog>() as libc::socklen_t,
                        )
                    },
                    "SO_ATTACH_FILTER (the BPF filter)",
                )?;
            }
            Ok::<(), io::Error>(())
        })();
        if let Err(e) = configured {
            unsafe { libc::close(fd) };
            return Err(e);
        }
        let config = Config {
            // The largest frame (64 KiB with offloads) and then some: never cut short.
            read_buffer_size: 65_536 + 4096,
            read_timeout: Some(Duration::from_millis(100)),
            promiscuous: true,
            linux_fanout: opts.fanout_group.map(|group_id| FanoutOption {
                group_id,
                fanout_type: FanoutType::HASH,
                defrag: true,
                rollover: false,
            }),
            socket_fd: Some(fd),
            ..Config::default()
        };
        // pnet binds the socket to the interface, joins promiscuous mode and the fanout group;
        // on failure it closes the descriptor itself.
        let rx = match pnet_datalink::channel(&iface, config)
            .map_err(|e| io::Error::new(e.kind(), format!("capturing on {}: {e}", opts.iface)))?
        {
            Channel::Ethernet(_tx, rx) => rx,
            _ => return Err(io::Error::other("not an Ethernet channel")),
        };
        let mut socket = Self { rx, fd, counts: CaptureCounts::default(), kernel_timestamps: true };
        // Frames counted before the filter and fanout were in place are not this capture's.
        socket.counts()?;
        socket.counts = CaptureCounts::default();
        Ok(socket)
    }

    /// The next frame and when the kernel received it; `None` after 100 ms without one (so
    /// that the caller can look at the clock and at a stop flag).
    pub fn next_frame(&mut self) -> io::Result<Option<(Micros, &[u8])>> {
        let frame = match self.rx.next() {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: SIOCGSTAMPNS writes one timespec.
        let stamped = unsafe { libc::ioctl(self.fd, SIOCGSTAMPNS as _, &mut ts as *mut libc::timespec) } == 0;
        let micros = if stamped && ts.tv_sec > 0 {
            ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1000
        } else {
            self.kernel_timestamps = false;
            now_micros()
        };
        Ok(Some((micros, frame)))
    }

    /// The kernel's counts for this socket since it was opened.
    pub fn counts(&mut self) -> io::Result<CaptureCounts> {
        let mut st = TpacketStats::default();
        let mut len = size_of::<TpacketStats>() as libc::socklen_t;
        // SAFETY: PACKET_STATISTICS fills a tpacket_stats.
        check(
            unsafe {
                libc::getsockopt(
                    self.fd,
                    libc::SOL_PACKET,
                    PACKET_STATISTICS,
                    (&mut st as *mut TpacketStats).cast(),
                    &mut len,
                )
            },
            "PACKET_STATISTICS",
        )?;
        // The kernel's `tp_packets` counts the dropped frames too.
        self.counts.received += u64::from(st.packets.saturating_sub(st.drops));
        self.counts.kernel_dropped += u64::from(st.drops);
        Ok(self.counts)
    }
}

pub fn now_micros() -> Micros {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}
