#!/usr/bin/env python3
"""Regenerates redis_cli_7_0_15.rs: runs redis-cli through a recording proxy, so the server's bytes and
redis-cli's output come from the same connection.

Needs redis-server and redis-cli 7.0.15. Start the oracle first:
    redis-server --port 6398 --save '' --appendonly no --daemonize yes --enable-debug-command yes
then: python3 capture_redis_cli.py > redis_cli_7_0_15.rs
"""
SETUP = r'''
C="redis-cli -p 6398"
$C flushall >/dev/null
$C set k v >/dev/null
$C set counter 41 >/dev/null
$C rpush l1 a >/dev/null
$C rpush l3 a b c >/dev/null
$C rpush l12 1 2 3 4 5 6 7 8 9 10 11 12 >/dev/null
$C xadd s 1-1 f v >/dev/null
$C xadd s 2-1 f1 v1 f2 v2 >/dev/null
for i in $(seq 1 11); do $C xadd s11 $i-0 f $i >/dev/null; done
$C zadd z 1.1 m 1.5 n 3 o >/dev/null
$C sadd st x >/dev/null
$C hset h f v >/dev/null
'''
import socket, threading, subprocess, sys
UP = 6398
def proxy_once(lsock, rec):
    c, _ = lsock.accept()
    s = socket.create_connection(('127.0.0.1', UP))
    def c2s():
        try:
            while True:
                d = c.recv(65536)
                if not d: break
                s.sendall(d)
        except OSError: pass
        try: s.shutdown(socket.SHUT_WR)
        except OSError: pass
    t = threading.Thread(target=c2s); t.start()
    try:
        while True:
            d = s.recv(65536)
            if not d: break
            rec.append(d)
            c.sendall(d)
    except OSError: pass
    try: c.shutdown(socket.SHUT_WR)
    except OSError: pass
    t.join(); c.close(); s.close()

def capture(args, mode):
    lsock = socket.socket(); lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(('127.0.0.1', 0)); lsock.listen(1)
    port = lsock.getsockname()[1]
    rec = []
    th = threading.Thread(target=proxy_once, args=(lsock, rec)); th.start()
    p = subprocess.run([b'redis-cli', b'-p', str(port).encode(), mode, *args], capture_output=True)
    th.join(); lsock.close()
    return b''.join(rec), p.stdout, p.stderr

def rs(b):
    # Rust byte-string literal
    out = 'b"'
    for x in b:
        c = chr(x)
        if c == '"': out += '\\"'
        elif c == '\\': out += '\\\\'
        elif c == '\n': out += '\\n'
        elif c == '\r': out += '\\r'
        elif c == '\t': out += '\\t'
        elif 32 <= x < 127: out += c
        else: out += '\\x%02x' % x
    return out + '"'

subprocess.run(['bash', '-c', SETUP], check=True)
E = '\x1b'
cases = [
 ('set', [b'SET', b'k', b'v']),
 ('get', [b'GET', b'k']),
 ('get_missing', [b'GET', b'nokey']),
 ('incr', [b'INCR', b'counter']),
 ('error', [b'INCR', b'k']),
 ('wrongtype', [b'LPUSH', b'k', b'x']),
 ('lrange0', [b'LRANGE', b'nolist', b'0', b'-1']),
 ('lrange1', [b'LRANGE', b'l1', b'0', b'-1']),
 ('lrange3', [b'LRANGE', b'l3', b'0', b'-1']),
 ('lrange12', [b'LRANGE', b'l12', b'0', b'-1']),
 ('mget_nil', [b'MGET', b'k', b'nokey', b'k']),
 ('command_info_get', [b'COMMAND', b'INFO', b'get']),
 ('command_docs_get', [b'COMMAND', b'DOCS', b'get']),
 ('xrange', [b'XRANGE', b's', b'-', b'+']),
 ('xrange11', [b'XRANGE', b's11', b'-', b'+']),
 ('xinfo_stream', [b'XINFO', b'STREAM', b's']),
 ('hello', [b'HELLO']),
 ('echo_euro', [b'ECHO', b'\xe2\x82\xac']),
 ('echo_escapes', [b'ECHO', b'q"b\\s\n\r\t\x07\x08\x01\x7f\xff ~']),
 ('echo_empty', [b'ECHO', b'']),
 ('zscore', [b'ZSCORE', b'z', b'm']),
 ('zscore15', [b'ZSCORE', b'z', b'n']),
 ('zrange_ws', [b'ZRANGE', b'z', b'0', b'-1', b'WITHSCORES']),
 ('smembers', [b'SMEMBERS', b'st']),
 ('smembers_empty', [b'SMEMBERS', b'nokey']),
 ('hgetall', [b'HGETALL', b'h']),
 ('hgetall_empty', [b'HGETALL', b'nokey']),
 ('dbg_map', [b'DEBUG', b'PROTOCOL', b'map']),
 ('dbg_set', [b'DEBUG', b'PROTOCOL', b'set']),
 ('dbg_true', [b'DEBUG', b'PROTOCOL', b'true']),
 ('dbg_false', [b'DEBUG', b'PROTOCOL', b'false']),
 ('dbg_double', [b'DEBUG', b'PROTOCOL', b'double']),
 ('dbg_null', [b'DEBUG', b'PROTOCOL', b'null']),
 ('dbg_verbatim', [b'DEBUG', b'PROTOCOL', b'verbatim']),
 ('lua_map', [b'EVAL', b"return {map={a={1}, b={1,{2,3}}, c={}, d={map={x='y'}}, e={map={x='y',z='w'}}, f={{}}}}", b'0']),
 ('lua_set', [b'EVAL', b"return {set={'a','b'}}", b'0']),
 ('lua_double', [b'EVAL', b"return {double=0.5}", b'0']),
 ('lua_verbatim', [b'EVAL', b"return {verbatim_string={format='txt', string='line1\\nline2'}}", b'0']),
 ('lua_nested', [b'EVAL', b"return {1,{2,{3,{}}},{map={k={1,2}}}}", b'0']),
 ('lua_status', [b'EVAL', b"return {ok='FINE'}", b'0']),
 ('lua_err', [b'EVAL', b"return {err='MYERR custom'}", b'0']),
 ('lua_nested_err', [b'EVAL', b"return {1, redis.error_reply('E x'), redis.status_reply('S y'), {}}", b'0']),
 ('lua_bools', [b'EVAL', b"return {true, false, 1}", b'0']),
 ('lua_set_nested', [b'EVAL', b"return {set={'a'}}", b'0']),
 ('lua_map_of_sets', [b'EVAL', b"return {map={k={set={'x','y'}}, j={set={}}, m={map={}}}}", b'0']),
 ('config_get_all', [b'CONFIG', b'GET', b'*']),
]
out = []
for name, args in cases:
    for proto in ((3,) if name == 'config_get_all' else (2, 3)):
        for mode in (b'--no-raw', b'--raw'):
            a = ([b'-3'] if proto == 3 else []) + args
            resp, stdout, stderr = capture(a, mode)
            if stderr:
                print('STDERR', name, proto, mode, stderr, file=sys.stderr)
                continue
            out.append('    Case { name: "%s_resp%d%s", wire: %s, tty: %s, output: %s },' % (
                name, proto, '_raw' if mode == b'--raw' else '', rs(resp), 'true' if mode == b'--no-raw' else 'false', rs(stdout)))
print('// Generated by capturing Redis 7.0.15 and redis-cli 7.0.15 through a recording proxy: `wire` is every byte the')
print('// server sent on the connection (HELLO 3 first under -3), `output` what redis-cli printed for the last reply.')
print('&[')
print('\n'.join(out))
print(']')
