//! Minimal, defensive MP4 (ISO BMFF) reader: the `moov` sample tables plus sample reads.
//! Hand-written rather than using the `mp4` crate so that hostile or truncated files can only
//! produce `InvalidInput`, never a panic or an unbounded allocation.

use crate::MediaError;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// A 120 s clip's moov is well under a megabyte; [`MAX_SAMPLES`] bounds the tables further.
const MAX_MOOV_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Codec {
    Avc {
        sps: Vec<Vec<u8>>,
        pps: Vec<Vec<u8>>,
        length_size: usize,
    },
    Opus {
        pre_skip: u16,
    },
    /// MPEG-4 audio (`mp4a`) with its AudioSpecificConfig from `esds`.
    #[cfg(feature = "aac")]
    Aac {
        asc: Vec<u8>,
    },
    Other(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Video,
    Audio,
    Other,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Sample {
    pub offset: u64,
    pub size: u32,
    pub duration: u32,
    pub sync: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Track {
    pub kind: Kind,
    pub timescale: u32,
    pub codec: Codec,
    pub width: u32,
    pub height: u32,
    pub samples: Vec<Sample>,
}

impl Track {
    pub fn duration_ticks(&self) -> u64 {
        self.samples.iter().map(|s| u64::from(s.duration)).sum()
    }

    pub fn duration_s(&self) -> f64 {
        self.duration_ticks() as f64 / f64::from(self.timescale)
    }
}

/// An opened MP4: parsed tracks plus the file handle for sample reads.
pub(crate) struct Movie {
    pub path: PathBuf,
    pub tracks: Vec<Track>,
    file: File,
}

impl Movie {
    pub fn open(path: &Path) -> Result<Self, MediaError> {
        let mut file = File::open(path)?;
        let file_len = file.metadata()?.len();
        if file_len == 0 {
            return Err(MediaError::invalid(path, "file is empty"));
        }
        let moov = find_moov(&mut file, file_len).map_err(|e| MediaError::invalid(path, e))?;
        let tracks = parse_moov(&moov, file_len).map_err(|e| MediaError::invalid(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            tracks,
            file,
        })
    }

    pub fn video(&self) -> Result<&Track, MediaError> {
        self.tracks
            .iter()
            .find(|t| t.kind == Kind::Video)
            .ok_or_else(|| MediaError::invalid(&self.path, "no video track"))
    }

    pub fn audio(&self) -> Option<&Track> {
        self.tracks.iter().find(|t| t.kind == Kind::Audio)
    }

    pub fn read_sample(&mut self, sample: &Sample) -> Result<Vec<u8>, MediaError> {
        let mut buf = vec![0; sample.size as usize];
        self.file.seek(SeekFrom::Start(sample.offset))?;
        self.file.read_exact(&mut buf).map_err(|e| {
            MediaError::invalid(&self.path, format!("sample at byte {}: {e}", sample.offset))
        })?;
        Ok(buf)
    }
}

fn read_header(file: &mut File, pos: u64, file_len: u64) -> Result<([u8; 4], u64, u64), String> {
    let mut h = [0u8; 16];
    let avail = (file_len - pos).min(16) as usize;
    if avail < 8 {
        return Err(format!("truncated box header at byte {pos}"));
    }
    file.seek(SeekFrom::Start(pos)).map_err(|e| e.to_string())?;
    file.read_exact(&mut h[..avail])
        .map_err(|e| e.to_string())?;
    let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let typ = [h[4], h[5], h[6], h[7]];
    let (size, header) = match size32 {
        0 => (file_len - pos, 8),
        1 if avail == 16 => (
            u64::from_be_bytes(h[8..16].try_into().unwrap_or_default()),
            16,
        ),
        1 => return Err(format!("truncated 64-bit box size at byte {pos}")),
        n => (u64::from(n), 8),
    };
    if size < header {
        return Err(format!("box at byte {pos} has impossible size {size}"));
    }
    Ok((typ, size, header))
}

fn find_moov(file: &mut File, file_len: u64) -> Result<Vec<u8>, String> {
    let mut pos = 0u64;
    let mut first = true;
    while pos < file_len {
        let (typ, size, header) = read_header(file, pos, file_len)?;
        if first && !typ.iter().all(|c| c.is_ascii_alphanumeric() || *c == b' ') {
            return Err("not an MP4 file (no box structure)".into());
        }
        first = false;
        if &typ == b"moov" {
            if pos.saturating_add(size) > file_len {
                return Err("moov box is truncated".into());
            }
            if size > MAX_MOOV_BYTES {
                return Err(format!("moov box of {size} bytes is implausibly large"));
            }
            let mut moov = vec![0; (size - header) as usize];
            file.seek(SeekFrom::Start(pos + header))
                .map_err(|e| e.to_string())?;
            file.read_exact(&mut moov).map_err(|e| e.to_string())?;
            return Ok(moov);
        }
        pos = pos.saturating_add(size);
    }
    Err("no moov box (not an MP4, or truncated)".into())
}

/// Big-endian cursor over a box payload; every read is bounds-checked.
struct Cur<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Cur<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self { b, p: 0 }
    }
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.p.checked_add(n).filter(|&e| e <= self.b.len());
        let end = end.ok_or_else(|| format!("box payload truncated ({} bytes wanted)", n))?;
        let s = &self.b[self.p..end];
        self.p = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.bytes(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, String> {
        let b = self.bytes(8)?;
        Ok(u64::from_be_bytes(b.try_into().map_err(|_| "short u64")?))
    }
    fn remaining(&self) -> usize {
        self.b.len() - self.p
    }
    /// Entry count of a table whose entries are `entry` bytes, checked against the payload.
    fn count(&mut self, entry: usize) -> Result<usize, String> {
        let n = self.u32()? as usize;
        if n.checked_mul(entry)
            .is_none_or(|need| need > self.remaining())
        {
            return Err(format!("table claims {n} entries but the box is too short"));
        }
        Ok(n)
    }
}

/// Child boxes of a container payload as (type, payload).
type Boxes<'a> = Vec<([u8; 4], &'a [u8])>;

fn children(buf: &[u8]) -> Result<Boxes<'_>, String> {
    let mut out = Vec::new();
    let mut c = Cur::new(buf);
    while c.remaining() >= 8 {
        let start = c.p;
        let size32 = c.u32()?;
        let typ: [u8; 4] = c.bytes(4)?.try_into().map_err(|_| "bad box type")?;
        let size = match size32 {
            0 => (buf.len() - start) as u64,
            1 => c.u64()?,
            n => u64::from(n),
        };
        let header = (c.p - start) as u64;
        if size < header || size > (buf.len() - start) as u64 {
            return Err(format!(
                "box '{}' has size {size}, outside its parent",
                String::from_utf8_lossy(&typ)
            ));
        }
        out.push((typ, &buf[c.p..start + size as usize]));
        c.p = start + size as usize;
    }
    Ok(out)
}

fn child<'a>(buf: &'a [u8], typ: &[u8; 4]) -> Result<Option<&'a [u8]>, String> {
    Ok(children(buf)?
        .into_iter()
        .find(|(t, _)| t == typ)
        .map(|(_, p)| p))
}

fn need<'a>(buf: &'a [u8], typ: &[u8; 4]) -> Result<&'a [u8], String> {
    child(buf, typ)?.ok_or_else(|| format!("missing '{}' box", String::from_utf8_lossy(typ)))
}

fn parse_moov(moov: &[u8], file_len: u64) -> Result<Vec<Track>, String> {
    let mut tracks = Vec::new();
    for (typ, trak) in children(moov)? {
        if &typ == b"trak" {
            tracks.push(parse_trak(trak, file_len)?);
        }
    }
    if tracks.is_empty() {
        return Err("moov has no tracks".into());
    }
    Ok(tracks)
}

fn parse_trak(trak: &[u8], file_len: u64) -> Result<Track, String> {
    let mdia = need(trak, b"mdia")?;
    let mut mdhd = Cur::new(need(mdia, b"mdhd")?);
    let version = mdhd.u8()?;
    mdhd.bytes(if version == 1 { 3 + 16 } else { 3 + 8 })?;
    let timescale = mdhd.u32()?;
    if timescale == 0 {
        return Err("track timescale is zero".into());
    }
    let mut hdlr = Cur::new(need(mdia, b"hdlr")?);
    hdlr.bytes(8)?;
    let kind = match hdlr.bytes(4)? {
        b"vide" => Kind::Video,
        b"soun" => Kind::Audio,
        _ => Kind::Other,
    };
    let stbl = need(need(mdia, b"minf")?, b"stbl")?;
    let (codec, mut width, mut height) = parse_stsd(need(stbl, b"stsd")?)?;
    if width == 0 || height == 0 {
        // Presentation size (16.16 fixed point) closes the tkhd box.
        if let Some(tail) = child(trak, b"tkhd")?.and_then(|t| t.get(t.len().checked_sub(8)?..)) {
            width = u32::from_be_bytes([tail[0], tail[1], tail[2], tail[3]]) >> 16;
            height = u32::from_be_bytes([tail[4], tail[5], tail[6], tail[7]]) >> 16;
        }
    }
    let samples = parse_samples(stbl, file_len)?;
    Ok(Track {
        kind,
        timescale,
        codec,
        width,
        height,
        samples,
    })
}

fn parse_stsd(stsd: &[u8]) -> Result<(Codec, u32, u32), String> {
    let mut c = Cur::new(stsd);
    c.bytes(8)?; // version/flags, entry count
    let entries = children(&stsd[8..])?;
    let (typ, entry) = entries.first().ok_or("stsd has no sample entry")?;
    match typ {
        b"avc1" | b"avc3" => {
            let mut e = Cur::new(entry);
            e.bytes(24)?;
            let width = u32::from(e.u16()?);
            let height = u32::from(e.u16()?);
            e.bytes(50)?;
            let avcc = need(&entry[e.p..], b"avcC")?;
            let codec = parse_avcc(avcc)?;
            Ok((codec, width, height))
        }
        b"Opus" => {
            let mut e = Cur::new(entry);
            e.bytes(28)?;
            let mut dops = Cur::new(need(&entry[e.p..], b"dOps")?);
            dops.bytes(2)?;
            let pre_skip = dops.u16()?;
            Ok((Codec::Opus { pre_skip }, 0, 0))
        }
        #[cfg(feature = "aac")]
        b"mp4a" => {
            let mut e = Cur::new(entry);
            e.bytes(28)?;
            // Audio this crate cannot decode must not make the whole file unreadable.
            let codec = need(&entry[e.p..], b"esds")
                .and_then(parse_esds)
                .map_or_else(|_| Codec::Other("mp4a".into()), |asc| Codec::Aac { asc });
            Ok((codec, 0, 0))
        }
        other => Ok((
            Codec::Other(String::from_utf8_lossy(other).into_owned()),
            0,
            0,
        )),
    }
}

/// The DecoderSpecificInfo (AudioSpecificConfig) inside `esds`'s ES_Descriptor (ISO 14496-1
/// 7.2.6.5): tag 0x03 -> DecoderConfigDescriptor 0x04 (objectTypeIndication 0x40, MPEG-4 audio)
/// -> DecoderSpecificInfo 0x05.
#[cfg(feature = "aac")]
fn parse_esds(esds: &[u8]) -> Result<Vec<u8>, String> {
    fn descriptor<'a>(c: &mut Cur<'a>, tag: u8) -> Result<Cur<'a>, String> {
        if c.u8()? != tag {
            return Err(format!("esds: expected descriptor tag {tag:#04x}"));
        }
        let mut len = 0usize;
        for _ in 0..4 {
            let b = c.u8()?;
            len = (len << 7) | usize::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
        Ok(Cur::new(c.bytes(len)?))
    }
    let mut c = Cur::new(esds);
    c.bytes(4)?; // version, flags
    let mut es = descriptor(&mut c, 0x03)?;
    es.bytes(2)?; // ES_ID
    let flags = es.u8()?;
    if flags & 0x80 != 0 {
        es.bytes(2)?; // dependsOn_ES_ID
    }
    if flags & 0x40 != 0 {
        let url = usize::from(es.u8()?);
        es.bytes(url)?;
    }
    if flags & 0x20 != 0 {
        es.bytes(2)?; // OCR_ES_Id
    }
    let mut config = descriptor(&mut es, 0x04)?;
    if config.u8()? != 0x40 {
        return Err("esds: audio is not MPEG-4 AAC".into());
    }
    config.bytes(12)?; // streamType, bufferSizeDB, maxBitrate, avgBitrate
    let asc = descriptor(&mut config, 0x05)?;
    if asc.b.is_empty() {
        return Err("esds: empty AudioSpecificConfig".into());
    }
    Ok(asc.b.to_vec())
}

fn parse_avcc(avcc: &[u8]) -> Result<Codec, String> {
    let mut c = Cur::new(avcc);
    c.bytes(4)?; // version, profile, compatibility, level
    let length_size = usize::from(c.u8()? & 3) + 1;
    let mut sets = |mask: u8| -> Result<Vec<Vec<u8>>, String> {
        let n = c.u8()? & mask;
        (0..n)
            .map(|_| {
                let len = usize::from(c.u16()?);
                Ok(c.bytes(len)?.to_vec())
            })
            .collect()
    };
    let sps = sets(0x1f)?;
    let pps = sets(0xff)?;
    if sps.is_empty() || pps.is_empty() {
        return Err("avcC has no SPS or PPS".into());
    }
    Ok(Codec::Avc {
        sps,
        pps,
        length_size,
    })
}

/// Samples one track may have: far above any clip the API takes (120 s at 240 fps is 28,800
/// frames; Opus or AAC audio is under 50 packets a second), and low enough that the sample
/// table of a hostile header stays small (24 bytes a sample).
const MAX_SAMPLES: usize = 1 << 20;

fn parse_samples(stbl: &[u8], file_len: u64) -> Result<Vec<Sample>, String> {
    let mut stsz = Cur::new(need(stbl, b"stsz")?);
    stsz.bytes(4)?;
    let constant = stsz.u32()?;
    let count = if constant == 0 {
        stsz.count(4)?
    } else {
        stsz.u32()? as usize
    };
    if (count as u64).saturating_mul(u64::from(constant.max(1))) > file_len {
        return Err(format!(
            "stsz claims {count} samples, more than the file holds"
        ));
    }
    if count > MAX_SAMPLES {
        return Err(format!(
            "stsz claims {count} samples; a track may have at most {MAX_SAMPLES}"
        ));
    }
    let sizes: Vec<u32> = if constant == 0 {
        (0..count).map(|_| stsz.u32()).collect::<Result<_, _>>()?
    } else {
        vec![constant; count]
    };

    let chunk_offsets: Vec<u64> = if let Some(stco) = child(stbl, b"stco")? {
        let mut c = Cur::new(stco);
        c.bytes(4)?;
        let n = c.count(4)?;
        (0..n)
            .map(|_| c.u32().map(u64::from))
            .collect::<Result<_, _>>()?
    } else {
        let mut c = Cur::new(need(stbl, b"co64")?);
        c.bytes(4)?;
        let n = c.count(8)?;
        (0..n).map(|_| c.u64()).collect::<Result<_, _>>()?
    };

    let mut stsc = Cur::new(need(stbl, b"stsc")?);
    stsc.bytes(4)?;
    let n = stsc.count(12)?;
    let mut runs: Vec<(u32, u32)> = Vec::with_capacity(n);
    for _ in 0..n {
        let first = stsc.u32()?;
        let per = stsc.u32()?;
        stsc.u32()?;
        // Chunk numbers start at 1 and each run starts after the one before (ISO 14496-12),
        // which is what lets the walk below move forward only.
        if first == 0 || runs.last().is_some_and(|&(prev, _)| first <= prev) {
            return Err(format!(
                "stsc run starting at chunk {first} is out of order"
            ));
        }
        runs.push((first, per));
    }

    let mut samples = Vec::with_capacity(count);
    let mut si = 0usize;
    let mut run = 0usize;
    for (ci, &chunk_start) in chunk_offsets.iter().enumerate() {
        let chunk_no = u32::try_from(ci + 1).map_err(|_| "too many chunks".to_string())?;
        while runs
            .get(run + 1)
            .is_some_and(|&(first, _)| first <= chunk_no)
        {
            run += 1;
        }
        let per = runs
            .get(run)
            .filter(|&&(first, _)| first <= chunk_no)
            .map_or(0, |r| r.1);
        let mut off = chunk_start;
        for _ in 0..per {
            let Some(&size) = sizes.get(si) else { break };
            if off.saturating_add(u64::from(size)) > file_len {
                return Err(format!(
                    "sample {si} lies beyond the end of the file (truncated?)"
                ));
            }
            samples.push(Sample {
                offset: off,
                size,
                duration: 0,
                sync: true,
            });
            off += u64::from(size);
            si += 1;
        }
        if si == count {
            break;
        }
    }
    if samples.len() != count {
        return Err(format!(
            "chunk tables locate {} of {count} samples",
            samples.len()
        ));
    }

    let mut stts = Cur::new(need(stbl, b"stts")?);
    stts.bytes(4)?;
    let n = stts.count(8)?;
    let mut it = samples.iter_mut();
    for _ in 0..n {
        let run = stts.u32()?;
        let delta = stts.u32()?;
        for s in it.by_ref().take(run as usize) {
            s.duration = delta;
        }
    }
    if it.next().is_some() {
        return Err("stts covers fewer samples than stsz".into());
    }

    if let Some(stss) = child(stbl, b"stss")? {
        let mut c = Cur::new(stss);
        c.bytes(4)?;
        let n = c.count(4)?;
        samples.iter_mut().for_each(|s| s.sync = false);
        for _ in 0..n {
            let k = c.u32()? as usize;
            if let Some(s) = k.checked_sub(1).and_then(|i| samples.get_mut(i)) {
                s.sync = true;
            }
        }
    }
    Ok(samples)
}
