//! Redis's geohash (geohash.c, geohash_helper.c): the 52-bit interleaved cell a point is stored as, the nine
//! cells a radius or box search reads, and the haversine distance.
//!
//! Everything here is a line-by-line port of the C code, operation for operation, so every coordinate and
//! distance comes out with the same bits as Redis's on x86-64. The transcendental functions come from the
//! `libm` crate (the engine is `no_std`); `sqrt` is correctly rounded everywhere and `sin`, `cos`, `asin`
//! agree with glibc's on the values the differential cases exercise.

use alloc::vec::Vec;

pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
/// Redis's latitude range is Web Mercator's (EPSG:3785), not the full [-90, 90].
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
/// Bits per axis of a stored point: 26 + 26 = 52, the mantissa of a double score.
pub const STEP_MAX: u8 = 26;

const D_R: f64 = core::f64::consts::PI / 180.0;
/// Earth's quadratic mean radius for WGS-84.
const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The WGS84 ranges points are encoded in: longitude, latitude.
pub const WGS84: (Range, Range) = (Range { min: LONG_MIN, max: LONG_MAX }, Range { min: LAT_MIN, max: LAT_MAX });

/// A cell: `step` bits per axis, interleaved (longitude in the odd bits, latitude in the even ones).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    /// Redis's HASHISZERO: the marker of a neighbour excluded from a search.
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

/// A cell's bounds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

/// Interleaves the low 32 bits of `x` (even positions) and `y` (odd positions).
fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] =
        [0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let mut x = u64::from(xlo);
    let mut y = u64::from(ylo);
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

/// The inverse of `interleave64`: the even bits in the low half, the odd bits in the high half.
fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let mut x = interleaved;
    let mut y = interleaved >> 1;
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// `geohashEncode`: the cell of `step` bits per axis holding the point, `None` outside the ranges (or
/// outside the WGS84 limits, which Redis checks first whatever the ranges).
pub fn encode(long_range: Range, lat_range: Range, longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    if step > 32 || step == 0 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min || latitude > lat_range.max || longitude < long_range.min || longitude > long_range.max
    {
        return None;
    }
    let mut lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min);
    let mut long_offset = (longitude - long_range.min) / (long_range.max - long_range.min);
    let scale = (1u64 << step) as f64;
    lat_offset *= scale;
    long_offset *= scale;
    // C converts the offsets to uint32_t by truncation; both lie in [0, 2^step].
    Some(HashBits { bits: interleave64(lat_offset as u32, long_offset as u32), step })
}

/// `geohashEncodeWGS84`.
pub fn encode_wgs84(longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    encode(WGS84.0, WGS84.1, longitude, latitude, step)
}

/// `geohashDecode`: the bounds of a cell.
pub fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let hash_sep = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = hash_sep as u32;
    let ilono = (hash_sep >> 32) as u32;
    let div = (1u64 << hash.step.min(63)) as f64;
    // `ilato + 1` is unsigned int arithmetic in C: it wraps.
    Some(Area {
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) * 1.0 / div) * lat_scale,
            max: lat_range.min + (f64::from(ilato.wrapping_add(1)) * 1.0 / div) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) * 1.0 / div) * long_scale,
            max: long_range.min + (f64::from(ilono.wrapping_add(1)) * 1.0 / div) * long_scale,
        },
    })
}

/// `geohashDecodeAreaToLongLat`: the cell's centre, clamped to the WGS84 limits.
fn area_center(area: &Area) -> [f64; 2] {
    let x = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let y = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [x, y]
}

/// C's `(uint64_t)d` as gcc compiles it for x86-64: below 2^63 through a signed conversion (negative
/// values wrap, out-of-range ones give the "indefinite" 2^63), else offset by 2^63 first.
fn c_double_to_u64(d: f64) -> u64 {
    const TWO63: f64 = 9223372036854775808.0;
    const INDEFINITE: u64 = 1 << 63;
    let cvttsd2si = |v: f64| -> u64 {
        if v > -TWO63 - 1.0 && v < TWO63 {
            (v as i64) as u64
        } else {
            INDEFINITE
        }
    };
    if d >= TWO63 {
        cvttsd2si(d - TWO63) ^ INDEFINITE
    } else {
        cvttsd2si(d)
    }
}

/// C's `(long long)d` on x86-64: truncation, or i64::MIN when out of range.
pub fn c_double_to_i64(d: f64) -> i64 {
    if d > -9223372036854775808.0 - 1.0 && d < 9223372036854775808.0 {
        d as i64
    } else {
        i64::MIN
    }
}

/// `decodeGeohash`: the point a sorted set score stands for (longitude, latitude).
pub fn decode_score(score: f64) -> Option<[f64; 2]> {
    let hash = HashBits { bits: c_double_to_u64(score), step: STEP_MAX };
    decode(WGS84.0, WGS84.1, hash).map(|a| area_center(&a))
}

/// The score GEOADD stores for a point already checked to be in range.
pub fn score_of(longitude: f64, latitude: f64) -> u64 {
    encode_wgs84(longitude, latitude, STEP_MAX).map_or(0, align52)
}

/// `geohashAlign52Bits`: the cell's bits shifted to a 52-bit score.
pub fn align52(hash: HashBits) -> u64 {
    let shift = 52u32.saturating_sub(u32::from(hash.step) * 2);
    hash.bits.checked_shl(shift).unwrap_or(0)
}

/// GEOHASH's 11-character string: the point re-encoded with the standard [-90, 90] latitude range, the
/// last character always '0' (52 bits make ten characters and two bits).
pub fn standard_hash_string(score: f64) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let xy = decode_score(score)?;
    let hash = encode(Range { min: -180.0, max: 180.0 }, Range { min: -90.0, max: 90.0 }, xy[0], xy[1], 26)
        .unwrap_or(HashBits { bits: 0, step: 26 });
    let mut out = Vec::with_capacity(11);
    for i in 0..11u32 {
        let idx = if i == 10 { 0 } else { (hash.bits >> (52 - (i + 1) * 5)) & 0x1f };
        out.push(ALPHABET[idx as usize & 0x1f]);
    }
    Some(out)
}

fn move_x(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let shift = 64u32.saturating_sub(u32::from(hash.step) * 2);
    let zz = 0x5555555555555555u64.checked_shr(shift).unwrap_or(0);
    if d > 0 {
        x = x.wrapping_add(zz.wrapping_add(1));
    } else {
        x |= zz;
        x = x.wrapping_sub(zz.wrapping_add(1));
    }
    x &= 0xaaaaaaaaaaaaaaaau64.checked_shr(shift).unwrap_or(0);
    hash.bits = x | y;
}

fn move_y(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let shift = 64u32.saturating_sub(u32::from(hash.step) * 2);
    let zz = 0xaaaaaaaaaaaaaaaau64.checked_shr(shift).unwrap_or(0);
    if d > 0 {
        y = y.wrapping_add(zz.wrapping_add(1));
    } else {
        y |= zz;
        y = y.wrapping_sub(zz.wrapping_add(1));
    }
    y &= 0x5555555555555555u64.checked_shr(shift).unwrap_or(0);
    hash.bits = x | y;
}

/// The eight neighbours of a cell, in Redis's struct order.
#[derive(Clone, Copy, Debug, Default)]
pub struct Neighbors {
    pub north: HashBits,
    pub east: HashBits,
    pub west: HashBits,
    pub south: HashBits,
    pub north_east: HashBits,
    pub south_east: HashBits,
    pub north_west: HashBits,
    pub south_west: HashBits,
}

/// `geohashNeighbors`.
fn neighbors(hash: &HashBits) -> Neighbors {
    let moved = |dx: i8, dy: i8| {
        let mut h = *hash;
        move_x(&mut h, dx);
        move_y(&mut h, dy);
        h
    };
    Neighbors {
        east: moved(1, 0),
        west: moved(-1, 0),
        south: moved(0, -1),
        north: moved(0, 1),
        north_west: moved(-1, 1),
        north_east: moved(1, 1),
        south_east: moved(1, -1),
        south_west: moved(-1, -1),
    }
}

/// What a search covers: a circle (radius) or an axis-aligned box (width, height), in the query's unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ShapeKind {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

/// Redis's GeoShape: the centre, the area and the unit's size in meters.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub xy: [f64; 2],
    pub conversion: f64,
    pub kind: ShapeKind,
}

/// The centre cell and its neighbours (a zeroed neighbour is not searched).
#[derive(Clone, Copy, Debug)]
pub struct Radius {
    pub hash: HashBits,
    pub neighbors: Neighbors,
}

impl Radius {
    /// The nine cells in the order Redis searches them.
    pub fn cells(&self) -> [HashBits; 9] {
        let n = &self.neighbors;
        [self.hash, n.north, n.south, n.east, n.west, n.north_east, n.north_west, n.south_east, n.south_west]
    }
}

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// `geohashEstimateStepsByRadius`: the step whose cells are about the search's size.
fn estimate_steps_by_radius(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    // Wider range towards the poles.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// `geohashBoundingBox`: min longitude, min latitude, max longitude, max latitude of the search area.
fn bounding_box(shape: &Shape) -> [f64; 4] {
    let longitude = shape.xy[0];
    let latitude = shape.xy[1];
    let (height, width) = match shape.kind {
        ShapeKind::Circle { radius } => (shape.conversion * radius, shape.conversion * radius),
        ShapeKind::Box { width, height } => (shape.conversion * (height / 2.0), shape.conversion * (width / 2.0)),
    };
    let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
    let long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS / libm::cos(deg_rad(latitude + lat_delta)));
    let long_delta_bottom = rad_deg(width / EARTH_RADIUS_IN_METERS / libm::cos(deg_rad(latitude - lat_delta)));
    let southern = latitude < 0.0;
    let min_lon = if southern { longitude - long_delta_bottom } else { longitude - long_delta_top };
    let max_lon = if southern { longitude + long_delta_bottom } else { longitude + long_delta_top };
    [min_lon, latitude - lat_delta, max_lon, latitude + lat_delta]
}

/// `geohashCalculateAreasByShapeWGS84`: the cells (centre and neighbours) covering the search area.
pub fn areas_by_shape(shape: &Shape) -> Radius {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(shape);
    let longitude = shape.xy[0];
    let latitude = shape.xy[1];
    let mut radius_meters = match shape.kind {
        ShapeKind::Circle { radius } => radius,
        ShapeKind::Box { width, height } => libm::sqrt((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)),
    };
    radius_meters *= shape.conversion;
    let mut steps = estimate_steps_by_radius(radius_meters, latitude);
    let (long_range, lat_range) = WGS84;
    let encode_at = |steps: u8| encode(long_range, lat_range, longitude, latitude, steps).unwrap_or_default();
    let decode_or_default = |h: HashBits| decode(long_range, lat_range, h).unwrap_or_default();
    let mut hash = encode_at(steps);
    let mut nb = neighbors(&hash);
    let mut area = decode_or_default(hash);

    // Near the edge of the centre cell a neighbour may not reach the whole area: one step coarser then.
    let north = decode_or_default(nb.north);
    let south = decode_or_default(nb.south);
    let east = decode_or_default(nb.east);
    let west = decode_or_default(nb.west);
    let decrease_step = north.latitude.max < max_lat
        || south.latitude.min > min_lat
        || east.longitude.max < max_lon
        || west.longitude.min > min_lon;
    if steps > 1 && decrease_step {
        steps -= 1;
        hash = encode_at(steps);
        nb = neighbors(&hash);
        area = decode_or_default(hash);
    }

    // Drop the neighbours the area cannot reach.
    if steps >= 2 {
        let zero = HashBits::default();
        if area.latitude.min < min_lat {
            nb.south = zero;
            nb.south_west = zero;
            nb.south_east = zero;
        }
        if area.latitude.max > max_lat {
            nb.north = zero;
            nb.north_east = zero;
            nb.north_west = zero;
        }
        if area.longitude.min < min_lon {
            nb.west = zero;
            nb.south_west = zero;
            nb.north_west = zero;
        }
        if area.longitude.max > max_lon {
            nb.east = zero;
            nb.south_east = zero;
            nb.north_east = zero;
        }
    }
    Radius { hash, neighbors: nb }
}

/// `geohashGetLatDistance`: the distance along a meridian.
fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * libm::fabs(deg_rad(lat2d) - deg_rad(lat1d))
}

/// `geohashGetDistance`: the haversine great-circle distance in meters.
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = libm::sin((lon2r - lon1r) / 2.0);
    // Same longitude: the formula reduces to the latitude difference (Redis's shortcut, with its rounding).
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = libm::sin((lat2r - lat1r) / 2.0);
    let a = u * u + libm::cos(lat1r) * libm::cos(lat2r) * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * libm::asin(libm::sqrt(a))
}

/// `geoAppendIfWithinShape`'s test: the distance from the centre when `point` lies in the shape.
pub fn distance_if_within(shape: &Shape, point: [f64; 2]) -> Option<f64> {
    let [x1, y1] = shape.xy;
    let [x2, y2] = point;
    match shape.kind {
        ShapeKind::Circle { radius } => {
            let d = distance(x1, y1, x2, y2);
            (d <= radius * shape.conversion).then_some(d)
        }
        ShapeKind::Box { width, height } => {
            // geohashGetDistanceIfInRectangle: the cheap latitude test first.
            let width_m = width * shape.conversion;
            let height_m = height * shape.conversion;
            if lat_distance(y2, y1) > height_m / 2.0 {
                return None;
            }
            if distance(x2, y2, x1, y2) > width_m / 2.0 {
                return None;
            }
            Some(distance(x1, y1, x2, y2))
        }
    }
}

/// Redis's `fixedpoint_d2string(.., 4)` (addReplyDoubleDistance): the value times 10^4 rounded to an
/// integer (`llrint`, ties to even), printed with four decimals.
pub fn format_distance(d: f64) -> Vec<u8> {
    if d == 0.0 {
        return b"0.0000".to_vec();
    }
    let scaled = libm::rint(d * 10000.0);
    let svalue = c_double_to_i64(scaled);
    let mut out = Vec::new();
    if svalue < 0 {
        out.push(b'-');
    }
    let value = svalue.unsigned_abs();
    let digits = alloc::format!("{:05}", value);
    let (int, frac) = digits.split_at(digits.len() - 4);
    out.extend_from_slice(int.as_bytes());
    out.push(b'.');
    out.extend_from_slice(frac.as_bytes());
    out
}

/// Redis's `ld2string(LD_STR_HUMAN)` of a double widened to long double (addReplyHumanLongDouble): the exact
/// value printed with `%.17Lf`, rounded half to even, then trailing zeros and a trailing dot dropped.
pub fn format_human(d: f64) -> Vec<u8> {
    let mut out = Vec::new();
    if !d.is_finite() {
        out.extend_from_slice(if d.is_nan() {
            b"nan"
        } else if d > 0.0 {
            b"inf"
        } else {
            b"-inf"
        });
        return out;
    }
    if d.is_sign_negative() {
        out.push(b'-');
    }
    let bits = d.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (mantissa, exp) = if exp_bits == 0 { (frac, -1074) } else { (frac | (1 << 52), exp_bits - 1075) };
    const TEN17: u128 = 100_000_000_000_000_000;
    let units: u128 = if mantissa == 0 {
        0
    } else if exp >= 0 {
        // Integers: exact (coordinates never get here with large exponents, but stay correct up to 2^75).
        (u128::from(mantissa) << exp.min(20)).saturating_mul(TEN17)
    } else {
        // mantissa * 10^17 < 2^110: exact; then divide by 2^-exp rounding half to even.
        let scaled = u128::from(mantissa) * TEN17;
        let shift = exp.unsigned_abs();
        if shift >= 128 {
            0
        } else {
            let q = scaled >> shift;
            let rem = scaled & ((1u128 << shift) - 1);
            let half = 1u128 << (shift - 1);
            q + u128::from(rem > half || (rem == half && q & 1 == 1))
        }
    };
    let int = units / TEN17;
    let frac = units % TEN17;
    out.extend_from_slice(alloc::format!("{int}").as_bytes());
    let mut fdigits = alloc::format!("{frac:017}").into_bytes();
    while fdigits.last() == Some(&b'0') {
        fdigits.pop();
    }
    if !fdigits.is_empty() {
        out.push(b'.');
        out.extend_from_slice(&fdigits);
    }
    if out == b"-0" {
        out.remove(0);
    }
    out
}

/// Redis's `pqsort` (NetBSD's qsort restricted to the slots `lrange..=rrange`): a Bentley-McIlroy
/// quicksort that skips partitions outside the wanted range. Ported exactly because it is not stable:
/// equal distances come out in the order this algorithm leaves them. Redis 7.0's copy has no switch to
/// insertion sort after a partition without swaps (later BSDs added one, and it changes tie order).
pub fn pqsort<T>(a: &mut [T], cmp: &impl Fn(&T, &T) -> core::cmp::Ordering, lrange: usize, rrange: usize) {
    pqsort_inner(a, 0, cmp, lrange, rrange);
}

fn med3<T>(a: &[T], i: usize, j: usize, k: usize, cmp: &impl Fn(&T, &T) -> core::cmp::Ordering) -> usize {
    use core::cmp::Ordering::{Greater, Less};
    let c = |x: usize, y: usize| match (a.get(x), a.get(y)) {
        (Some(p), Some(q)) => cmp(p, q),
        _ => core::cmp::Ordering::Equal,
    };
    if c(i, j) == Less {
        if c(j, k) == Less {
            j
        } else if c(i, k) == Less {
            k
        } else {
            i
        }
    } else if c(j, k) == Greater {
        j
    } else if c(i, k) == Less {
        i
    } else {
        k
    }
}

/// `_pqsort` on the subslice `a` that starts at absolute slot `base` (the range is in absolute slots).
fn pqsort_inner<T>(
    mut a: &mut [T],
    mut base: usize,
    cmp: &impl Fn(&T, &T) -> core::cmp::Ordering,
    lrange: usize,
    rrange: usize,
) {
    use core::cmp::Ordering::{Equal, Greater};
    let c = |a: &[T], x: usize, y: usize| match (a.get(x), a.get(y)) {
        (Some(p), Some(q)) => cmp(p, q),
        _ => Equal,
    };
    let insertion = |a: &mut [T]| {
        for pm in 1..a.len() {
            let mut pl = pm;
            while pl > 0 && c(a, pl - 1, pl) == Greater {
                a.swap(pl, pl - 1);
                pl -= 1;
            }
        }
    };
    loop {
        let n = a.len();
        if n < 7 {
            insertion(a);
            return;
        }
        let mut pm = n / 2;
        if n > 7 {
            let mut pl = 0;
            let mut pn = n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(a, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(a, pm - d, pm, pm + d, cmp);
                pn = med3(a, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(a, pl, pm, pn, cmp);
        }
        a.swap(0, pm);
        let (mut pa, mut pb) = (1usize, 1usize);
        // pc and pd may step below pb: keep them signed.
        let (mut pc, mut pd) = (n as isize - 1, n as isize - 1);
        loop {
            while pb as isize <= pc {
                let r = c(a, pb, 0);
                if r == Greater {
                    break;
                }
                if r == Equal {
                    a.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb as isize <= pc {
                let r = c(a, pc as usize, 0);
                if r == core::cmp::Ordering::Less {
                    break;
                }
                if r == Equal {
                    a.swap(pc as usize, pd as usize);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb as isize > pc {
                break;
            }
            a.swap(pb, pc as usize);
            pb += 1;
            pc -= 1;
        }
        let pn = n;
        let r = pa.min(pb - pa);
        vecswap(a, 0, pb - r, r);
        let (pc, pd) = (pc as usize, pd as usize);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(a, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 {
            let (s, m) = (base, r);
            if !((lrange < s && rrange < s) || (lrange >= s + m && rrange >= s + m)) {
                if let Some(left) = a.get_mut(..r) {
                    pqsort_inner(left, base, cmp, lrange, rrange);
                }
            }
        }
        let r = pd - pc;
        if r > 1 {
            let start = pn - r;
            let (s, m) = (base + start, r);
            if (lrange < s && rrange < s) || (lrange >= s + m && rrange >= s + m) {
                return;
            }
            let Some(right) = a.get_mut(start..) else { return };
            a = right;
            base = s;
            continue;
        }
        return;
    }
}

/// Swaps the `n` slots from `i` with the `n` slots from `j` (ranges that do not overlap).
fn vecswap<T>(a: &mut [T], i: usize, j: usize, n: usize) {
    for k in 0..n {
        a.swap(i + k, j + k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palermo_round_trip() {
        let score = score_of(13.361389, 38.115556) as f64;
        assert_eq!(score, 3479099956230698.0);
        let xy = decode_score(score).unwrap();
        assert_eq!(format_human(xy[0]), b"13.36138933897018433");
        assert_eq!(format_human(xy[1]), b"38.11555639549629859");
        assert_eq!(standard_hash_string(score).unwrap(), b"sqc8b49rny0");
    }

    #[test]
    fn out_of_range_scores_decode_like_x86() {
        let xy = decode_score(-1.0).unwrap();
        assert_eq!(format_human(xy[0]), b"180");
        assert_eq!(format_human(xy[1]), b"85.0511287799999991");
        let xy = decode_score(1e300).unwrap();
        assert_eq!(format_human(xy[0]), b"-179.99999731779098511");
    }

    #[test]
    fn distances_print_four_decimals() {
        assert_eq!(format_distance(0.0), b"0.0000");
        assert_eq!(format_distance(0.0001), b"0.0001");
        assert_eq!(format_distance(166274.15156960033), b"166274.1516");
    }

    #[test]
    fn pqsort_sorts_the_wanted_prefix() {
        let mut v: Vec<u32> = (0..100).map(|i| (i * 37 + 11) % 101).collect();
        pqsort(&mut v, &|a: &u32, b: &u32| a.cmp(b), 0, 9);
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(v[..10], sorted[..10]);
    }
}
