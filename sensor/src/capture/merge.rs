//! Several capture files read as one stream in time order, as `zeek -r a.pcap -r b.pcap`
//! would see them if they had been one capture.

use super::{CaptureError, CaptureReader, Packet};

pub struct MergedReader {
    readers: Vec<CaptureReader>,
    /// Readers holding a packet not yet handed out.
    ready: Vec<bool>,
    current: Option<usize>,
    /// Files that failed part-way: their packets up to the error were delivered.
    pub errors: Vec<CaptureError>,
}

impl MergedReader {
    /// Opens every file. A file that cannot be opened or is no capture fails the whole call,
    /// before anything is read: that is a usage error, not damage found mid-stream.
    pub fn open(files: &[String]) -> Result<Self, CaptureError> {
        let readers = files.iter().map(|f| CaptureReader::open(f)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(readers))
    }

    pub fn new(readers: Vec<CaptureReader>) -> Self {
        let n = readers.len();
        let mut merged = Self { readers, ready: vec![false; n], current: None, errors: Vec::new() };
        for i in 0..n {
            merged.refill(i);
        }
        merged
    }

    fn refill(&mut self, i: usize) {
        match self.readers[i].advance() {
            Ok(got) => self.ready[i] = got,
            Err(e) => {
                self.ready[i] = false;
                self.errors.push(e);
            }
        }
    }

    /// Bytes read from all files so far.
    pub fn bytes_read(&self) -> u64 {
        self.readers.iter().map(|r| r.offset()).sum()
    }

    /// The next packet in time order across all files, or `None` when all are done.
    pub fn next_packet(&mut self) -> Option<&Packet> {
        if let Some(i) = self.current.take() {
            self.refill(i);
        }
        let mut best: Option<usize> = None;
        for (i, ready) in self.ready.iter().enumerate() {
            if *ready && best.is_none_or(|b| self.readers[i].packet.ts < self.readers[b].packet.ts) {
                best = Some(i);
            }
        }
        let i = best?;
        self.current = Some(i);
        Some(&self.readers[i].packet)
    }
}
