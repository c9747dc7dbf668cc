//! Geo commands on sorted sets (Redis's geo.c): a point is a member whose score is its 52-bit geohash.
//!
//! The geohash arithmetic lives in `crate::geohash`; this file parses arguments, walks the sorted set and
//! shapes replies as Redis does. Distances print with four decimals (`fixedpoint_d2string`) as bulk strings
//! in both protocols; coordinates print as `%.17Lf` trimmed (`addReplyHumanLongDouble`): bulk strings in
//! RESP2, doubles with that same text in RESP3.

use alloc::format;
use alloc::vec::Vec;
use core::cmp::Ordering;

use super::zset::{limits, read_zset, zadd};
use super::Handler;
use crate::engine::{Ctx, Engine};
use crate::error::{lossy, Error};
use crate::geohash::{self, Shape, ShapeKind};
use crate::notify::{self, notify};
use crate::reply::Reply;
use crate::types::zset::{AddFlags, Limits, ScoreRange};
use crate::types::ZSet;
use crate::util::{eq_ic, fmt_fixed, i64_bytes, parse_f64, parse_i64, sort_by_dyn};
use crate::value::{Entry, Value};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("geoadd", geoadd),
    ("georadius", georadius),
    ("georadiusbymember", georadiusbymember),
    ("georadius_ro", georadius_ro),
    ("georadiusbymember_ro", georadiusbymember_ro),
    ("geosearch", geosearch),
    ("geosearchstore", geosearchstore),
    ("geohash", geohash_cmd),
    ("geopos", geopos),
    ("geodist", geodist),
];

// ---------------------------------------------------------------------------------------------------------
// Helpers

/// `extractLongLatOrReply`: a longitude and a latitude, both parsed before either is range-checked.
fn extract_lon_lat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], Error> {
    let x = parse_f64(lon).ok_or(Error::NotFloat)?;
    let y = parse_f64(lat).ok_or(Error::NotFloat)?;
    if !(geohash::LONG_MIN..=geohash::LONG_MAX).contains(&x) || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&y) {
        return Err(Error::Other(format!("ERR invalid longitude,latitude pair {},{}", fmt_fixed(x, 6), fmt_fixed(y, 6))));
    }
    Ok([x, y])
}

/// `extractUnitOrReply`: meters per unit.
fn extract_unit(unit: &[u8]) -> Result<f64, Error> {
    if eq_ic(unit, "m") {
        Ok(1.0)
    } else if eq_ic(unit, "km") {
        Ok(1000.0)
    } else if eq_ic(unit, "ft") {
        Ok(0.3048)
    } else if eq_ic(unit, "mi") {
        Ok(1609.34)
    } else {
        Err(Error::other("ERR unsupported unit provided. please use M, KM, FT, MI"))
    }
}

/// `extractDistanceOrReply`: a radius and its unit (meters per unit).
fn extract_distance(radius: &[u8], unit: &[u8]) -> Result<(f64, f64), Error> {
    let r = parse_f64(radius).ok_or(Error::other("ERR need numeric radius"))?;
    if r < 0.0 {
        return Err(Error::other("ERR radius cannot be negative"));
    }
    Ok((r, extract_unit(unit)?))
}

/// `extractBoxOrReply`: width, height and the unit.
fn extract_box(width: &[u8], height: &[u8], unit: &[u8]) -> Result<(f64, f64, f64), Error> {
    let w = parse_f64(width).ok_or(Error::other("ERR need numeric width"))?;
    let h = parse_f64(height).ok_or(Error::other("ERR need numeric height"))?;
    if h < 0.0 || w < 0.0 {
        return Err(Error::other("ERR height or width cannot be negative"));
    }
    Ok((w, h, extract_unit(unit)?))
}

/// `longLatFromMember`: the point of a member, `None` when it is not in the set.
fn member_point(z: &ZSet, member: &[u8]) -> Option<[f64; 2]> {
    z.score(member).and_then(geohash::decode_score)
}

/// A point found by a search (Redis's geoPoint).
struct Point {
    xy: [f64; 2],
    dist: f64,
    score: f64,
    member: Vec<u8>,
}

/// `geoGetPointsInRange` through `membersOfGeoHashBox`: the members whose score lies in the cell, kept
/// when inside the shape; stops once `limit` points (when nonzero) were collected.
fn members_of_box(z: &ZSet, cell: geohash::HashBits, shape: &Shape, out: &mut Vec<Point>, limit: usize) {
    let min = geohash::align52(cell);
    let max = geohash::align52(geohash::HashBits { bits: cell.bits.wrapping_add(1), step: cell.step });
    let range = ScoreRange { min: min as f64, max: max as f64, minex: false, maxex: true };
    let mut pos = z.first_in_range(&range);
    while let Some(p) = pos {
        let (member, score) = z.get(p);
        if !range.lte_max(score) {
            break;
        }
        if let Some(xy) = geohash::decode_score(score) {
            if let Some(dist) = geohash::distance_if_within(shape, xy) {
                out.push(Point { xy, dist, score, member: member.to_vec() });
            }
        }
        if !out.is_empty() && limit != 0 && out.len() >= limit {
            break;
        }
        pos = z.next(p);
    }
}

/// `membersOfAllNeighbors`: the centre cell and its neighbours in Redis's order, skipping a cell equal to
/// the one processed last (with huge radii neighbours coincide; Redis compares only with the last one, and
/// not at all while the last one is the centre).
fn members_of_all_neighbors(z: &ZSet, shape: &Shape, limit: usize) -> Vec<Point> {
    let cells = geohash::areas_by_shape(shape).cells();
    let mut out = Vec::new();
    let mut last_processed = 0usize;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        if last_processed != 0 && cells.get(last_processed) == Some(cell) {
            continue;
        }
        if !out.is_empty() && limit != 0 && out.len() >= limit {
            break;
        }
        members_of_box(z, *cell, shape, &mut out, limit);
        last_processed = i;
    }
    out
}

/// `sort_gp_asc`: by distance, equal (and NaN-involving) comparisons as the C comparator answers them.
fn cmp_asc(a: &Point, b: &Point) -> Ordering {
    if a.dist > b.dist {
        Ordering::Greater
    } else if a.dist == b.dist {
        Ordering::Equal
    } else {
        Ordering::Less
    }
}

// ---------------------------------------------------------------------------------------------------------
// Commands

/// GEOADD key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]
///
/// As in Redis, the arguments are rewritten into a ZADD (each point becoming its score) and ZADD runs.
fn geoadd(e: &mut Engine, c: &Ctx) -> Reply {
    let (mut nx, mut xx) = (false, false);
    let mut longidx = 2;
    while longidx < c.argc() {
        let opt = c.arg(longidx);
        if eq_ic(opt, "nx") {
            nx = true;
        } else if eq_ic(opt, "xx") {
            xx = true;
        } else if !eq_ic(opt, "ch") {
            break;
        }
        longidx += 1;
    }
    if !(c.argc() - longidx).is_multiple_of(3) || (xx && nx) {
        return Error::Syntax.into();
    }
    let elements = (c.argc() - longidx) / 3;
    let mut scores: Vec<Vec<u8>> = Vec::with_capacity(elements);
    for i in 0..elements {
        let at = longidx + 3 * i;
        match extract_lon_lat(c.arg(at), c.arg(at + 1)) {
            Ok([x, y]) => scores.push(i64_bytes(geohash::score_of(x, y) as i64)),
            Err(err) => return err.into(),
        }
    }
    let mut argv: Vec<&[u8]> = Vec::with_capacity(longidx + 2 * elements);
    argv.push(b"zadd");
    argv.extend((1..longidx).map(|i| c.arg(i)));
    for (i, score) in scores.iter().enumerate() {
        argv.push(score);
        argv.push(c.arg(longidx + 3 * i + 2));
    }
    // Redis replaces the command's arguments with these before calling ZADD, so GEOADD propagates as them.
    crate::propagate::rewrite(e, &argv);
    let zc = Ctx { argv: &argv, client: c.client, db: c.db, spec: c.spec };
    zadd(e, &zc)
}

#[derive(Clone, Copy, Default)]
struct SearchFlags {
    /// GEORADIUS: centre from longitude and latitude arguments.
    coords: bool,
    /// GEORADIUSBYMEMBER: centre from a member.
    member: bool,
    /// The _RO variants refuse STORE and STOREDIST.
    nostore: bool,
    /// GEOSEARCH's FROM.../BY... syntax.
    search: bool,
    /// GEOSEARCHSTORE: destination first, STOREDIST a bare flag.
    searchstore: bool,
}

/// GEORADIUS key longitude latitude radius m|km|ft|mi [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key]
fn georadius(e: &mut Engine, c: &Ctx) -> Reply {
    georadius_generic(e, c, 1, SearchFlags { coords: true, ..Default::default() })
}

/// GEORADIUSBYMEMBER key member radius m|km|ft|mi [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key]
fn georadiusbymember(e: &mut Engine, c: &Ctx) -> Reply {
    georadius_generic(e, c, 1, SearchFlags { member: true, ..Default::default() })
}

/// GEORADIUS_RO key longitude latitude radius m|km|ft|mi [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]
fn georadius_ro(e: &mut Engine, c: &Ctx) -> Reply {
    georadius_generic(e, c, 1, SearchFlags { coords: true, nostore: true, ..Default::default() })
}

/// GEORADIUSBYMEMBER_RO key member radius m|km|ft|mi [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]
fn georadiusbymember_ro(e: &mut Engine, c: &Ctx) -> Reply {
    georadius_generic(e, c, 1, SearchFlags { member: true, nostore: true, ..Default::default() })
}

/// GEOSEARCH key FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius unit|BYBOX width height unit [ASC|DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]
fn geosearch(e: &mut Engine, c: &Ctx) -> Reply {
    georadius_generic(e, c, 1, SearchFlags { search: true, ..Default::default() })
}

/// GEOSEARCHSTORE destination source FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius unit|BYBOX width height unit [ASC|DESC] [COUNT count [ANY]] [STOREDIST]
fn geosearchstore(e: &mut Engine, c: &Ctx) -> Reply {
    georadius_generic(e, c, 2, SearchFlags { search: true, searchstore: true, ..Default::default() })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// What a search came to before replying: the points (sorted, cut to the count) or nothing at all.
enum Found {
    /// The source key does not exist.
    NoKey,
    Points(Vec<Point>),
}

/// The worker behind every search command (georadiusGeneric): errors in Redis's order, then the search.
fn georadius_generic(e: &mut Engine, c: &Ctx, src_idx: usize, flags: SearchFlags) -> Reply {
    let zobj = match read_zset(e, c.db, c.arg(src_idx)) {
        Ok(z) => z,
        Err(err) => return err.into(),
    };
    let mut storekey: Option<&[u8]> = None;
    let mut storedist = false;
    let mut xy = [0.0f64; 2];
    let mut conversion = 0.0f64;
    let mut kind = ShapeKind::Circle { radius: 0.0 };
    let base_args;
    if flags.coords {
        base_args = 6;
        xy = match extract_lon_lat(c.arg(2), c.arg(3)) {
            Ok(xy) => xy,
            Err(err) => return err.into(),
        };
        match extract_distance(c.arg(4), c.arg(5)) {
            Ok((r, conv)) => (kind, conversion) = (ShapeKind::Circle { radius: r }, conv),
            Err(err) => return err.into(),
        }
    } else if flags.member {
        base_args = 5;
        // Without a source key the arguments are still parsed, for the right empty reply.
        if let Some(z) = zobj {
            xy = match member_point(z, c.arg(2)) {
                Some(xy) => xy,
                None => return Error::other("ERR could not decode requested zset member").into(),
            };
            match extract_distance(c.arg(3), c.arg(4)) {
                Ok((r, conv)) => (kind, conversion) = (ShapeKind::Circle { radius: r }, conv),
                Err(err) => return err.into(),
            }
        }
    } else if flags.searchstore {
        base_args = 3;
        storekey = Some(c.arg(1));
    } else {
        base_args = 2;
    }

    let (mut withdist, mut withhash, mut withcoords) = (false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut any = false;
    let mut count: i64 = 0;
    let remaining = c.argc().saturating_sub(base_args);
    let mut i = 0;
    while i < remaining {
        let arg = c.arg(base_args + i);
        let next = |k: usize| c.arg(base_args + i + k);
        let store_allowed = !flags.nostore && !flags.search;
        if eq_ic(arg, "withdist") {
            withdist = true;
        } else if eq_ic(arg, "withhash") {
            withhash = true;
        } else if eq_ic(arg, "withcoord") {
            withcoords = true;
        } else if eq_ic(arg, "any") {
            any = true;
        } else if eq_ic(arg, "asc") {
            sort = Sort::Asc;
        } else if eq_ic(arg, "desc") {
            sort = Sort::Desc;
        } else if eq_ic(arg, "count") && i + 1 < remaining {
            count = match parse_i64(next(1)) {
                Some(n) => n,
                None => return Error::NotInteger.into(),
            };
            if count <= 0 {
                return Error::other("ERR COUNT must be > 0").into();
            }
            i += 1;
        } else if eq_ic(arg, "store") && i + 1 < remaining && store_allowed {
            storekey = Some(next(1));
            storedist = false;
            i += 1;
        } else if eq_ic(arg, "storedist") && i + 1 < remaining && store_allowed {
            storekey = Some(next(1));
            storedist = true;
            i += 1;
        } else if eq_ic(arg, "storedist") && flags.search && flags.searchstore {
            storedist = true;
        } else if eq_ic(arg, "frommember") && i + 1 < remaining && flags.search && !fromloc {
            if let Some(z) = zobj {
                xy = match member_point(z, next(1)) {
                    Some(xy) => xy,
                    None => return Error::other("ERR could not decode requested zset member").into(),
                };
            }
            frommember = true;
            i += 1;
        } else if eq_ic(arg, "fromlonlat") && i + 2 < remaining && flags.search && !frommember {
            xy = match extract_lon_lat(next(1), next(2)) {
                Ok(xy) => xy,
                Err(err) => return err.into(),
            };
            fromloc = true;
            i += 2;
        } else if eq_ic(arg, "byradius") && i + 2 < remaining && flags.search && !bybox {
            match extract_distance(next(1), next(2)) {
                Ok((r, conv)) => (kind, conversion) = (ShapeKind::Circle { radius: r }, conv),
                Err(err) => return err.into(),
            }
            byradius = true;
            i += 2;
        } else if eq_ic(arg, "bybox") && i + 3 < remaining && flags.search && !byradius {
            match extract_box(next(1), next(2), next(3)) {
                Ok((w, h, conv)) => (kind, conversion) = (ShapeKind::Box { width: w, height: h }, conv),
                Err(err) => return err.into(),
            }
            bybox = true;
            i += 3;
        } else {
            return Error::Syntax.into();
        }
        i += 1;
    }

    if storekey.is_some() && (withdist || withhash || withcoords) {
        let what = if flags.searchstore { "GEOSEARCHSTORE" } else { "STORE option in GEORADIUS" };
        return Error::Other(format!("ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"))
            .into();
    }
    let name = lossy(c.arg(0), usize::MAX);
    if flags.search && !(frommember || fromloc) {
        return Error::Other(format!("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}")).into();
    }
    if flags.search && !(byradius || bybox) {
        return Error::Other(format!("ERR exactly one of BYRADIUS and BYBOX can be specified for {name}")).into();
    }
    if any && count == 0 {
        return Error::other("ERR the ANY argument requires COUNT argument").into();
    }

    let found = match zobj {
        None => Found::NoKey,
        Some(z) => {
            // COUNT without an order means the closest ones (but ANY means any ones).
            if count != 0 && sort == Sort::None && !any {
                sort = Sort::Asc;
            }
            let shape = Shape { xy, conversion, kind };
            let limit = if any { usize::try_from(count).unwrap_or(usize::MAX) } else { 0 };
            let mut points = members_of_all_neighbors(z, &shape, limit);
            let returned = match usize::try_from(count) {
                Ok(n) if n != 0 && n < points.len() => n,
                _ => points.len(),
            };
            if sort != Sort::None {
                let cmp = |a: &Point, b: &Point| match sort {
                    Sort::Desc => cmp_asc(a, b).reverse(),
                    _ => cmp_asc(a, b),
                };
                if returned == points.len() {
                    // glibc's qsort is a stable merge sort for arrays this size.
                    sort_by_dyn(&mut points, &mut |a, b| cmp(a, b));
                } else {
                    geohash::pqsort(&mut points, &cmp, 0, returned - 1);
                }
            }
            points.truncate(returned);
            for p in &mut points {
                p.dist /= conversion;
            }
            Found::Points(points)
        }
    };

    match (found, storekey) {
        (Found::NoKey, None) => Reply::Array(Vec::new()),
        (Found::NoKey, Some(dst)) => {
            if e.db_mut(c.db).remove(dst).is_some() {
                e.dirty += 1;
                notify(e, notify::GENERIC, "del", dst, c.db);
            }
            Reply::Integer(0)
        }
        (Found::Points(points), None) => {
            let options = usize::from(withdist) + usize::from(withhash) + usize::from(withcoords);
            let items = points
                .into_iter()
                .map(|p| {
                    if options == 0 {
                        return Reply::Bulk(p.member);
                    }
                    let mut item = Vec::with_capacity(options + 1);
                    item.push(Reply::Bulk(p.member));
                    if withdist {
                        item.push(Reply::Bulk(geohash::format_distance(p.dist)));
                    }
                    if withhash {
                        item.push(Reply::Integer(geohash::c_double_to_i64(p.score)));
                    }
                    if withcoords {
                        item.push(Reply::Array(alloc::vec![coordinate(p.xy[0]), coordinate(p.xy[1])]));
                    }
                    Reply::Array(item)
                })
                .collect();
            Reply::Array(items)
        }
        (Found::Points(points), Some(dst)) => {
            let n = points.len();
            if n > 0 {
                let mut z = ZSet::new(false);
                let no_limits = Limits { max_entries: 0, max_value: 0 };
                for p in &points {
                    let score = if storedist { p.dist } else { p.score };
                    z.add(&p.member, score, AddFlags::default(), no_limits).ok();
                }
                z.shrink_if_fits(limits(e));
                let entry = Entry::new(Value::ZSet(z.into()), e.now);
                e.db_mut(c.db).set(dst, entry);
                e.dirty += n as u64;
                let event = if flags.search { "geosearchstore" } else { "georadiusstore" };
                notify(e, notify::ZSET, event, dst, c.db);
            } else if e.db_mut(c.db).remove(dst).is_some() {
                e.dirty += 1;
                notify(e, notify::GENERIC, "del", dst, c.db);
            }
            Reply::Integer(n as i64)
        }
    }
}

/// A coordinate as `addReplyHumanLongDouble` sends it.
fn coordinate(v: f64) -> Reply {
    Reply::DoubleText(alloc::string::String::from_utf8_lossy(&geohash::format_human(v)).into_owned())
}

/// GEOHASH key [member [member ...]]
fn geohash_cmd(e: &mut Engine, c: &Ctx) -> Reply {
    let z = match read_zset(e, c.db, c.arg(1)) {
        Ok(z) => z,
        Err(err) => return err.into(),
    };
    let items = c.argv.get(2..).unwrap_or(&[])
        .iter()
        .map(|m| match z.and_then(|z| z.score(m)).and_then(geohash::standard_hash_string) {
            Some(h) => Reply::Bulk(h),
            None => Reply::Nil,
        })
        .collect();
    Reply::Array(items)
}

/// GEOPOS key [member [member ...]]
fn geopos(e: &mut Engine, c: &Ctx) -> Reply {
    let z = match read_zset(e, c.db, c.arg(1)) {
        Ok(z) => z,
        Err(err) => return err.into(),
    };
    let items = c.argv.get(2..).unwrap_or(&[])
        .iter()
        .map(|m| match z.and_then(|z| member_point(z, m)) {
            Some([x, y]) => Reply::Array(alloc::vec![coordinate(x), coordinate(y)]),
            None => Reply::NilArray,
        })
        .collect();
    Reply::Array(items)
}

/// GEODIST key member1 member2 [M | KM | FT | MI]
fn geodist(e: &mut Engine, c: &Ctx) -> Reply {
    let mut to_meter = 1.0;
    if c.argc() == 5 {
        to_meter = match extract_unit(c.arg(4)) {
            Ok(u) => u,
            Err(err) => return err.into(),
        };
    } else if c.argc() > 5 {
        return Error::Syntax.into();
    }
    let z = match read_zset(e, c.db, c.arg(1)) {
        Ok(Some(z)) => z,
        Ok(None) => return Reply::Nil,
        Err(err) => return err.into(),
    };
    match (member_point(z, c.arg(2)), member_point(z, c.arg(3))) {
        (Some(a), Some(b)) => {
            Reply::Bulk(geohash::format_distance(geohash::distance(a[0], a[1], b[0], b[1]) / to_meter))
        }
        _ => Reply::Nil,
    }
}
