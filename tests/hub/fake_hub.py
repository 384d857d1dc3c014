#!/usr/bin/python3
"""A stand-in for the Hugging Face Hub on 127.0.0.1, for tests/test_hub.cpp and the GUI test.

Usage: fake_hub.py CONFIG.json LOG.jsonl

It listens on two ports of 127.0.0.1 (never any other address): the Hub itself and a "CDN" for LFS files, a
different origin as the real Hub's LFS storage is, so the test can check that the token never leaves the Hub.
It prints "PORTS <hub> <cdn>" on its first line of stdout once both listen, and appends every request it gets to
LOG.jsonl (method, port, path, Range and Authorization).

CONFIG.json:
  {"token": "hf_...",                       # what a gated repo wants in "Authorization: Bearer ..."
   "repos": [{"id": "org/name",
              "folder": "/path/to/model",   # every file in it is in the repo
              "commit": "<40 hex>",
              "refs": {"v1": "<40 hex>"},   # more revisions (same files); "main" is "commit"
              "gated": false,
              "extra": ["tf_model.h5"],     # listed and served (a few bytes) but never wanted
              "corrupt": ["model.safetensors"],   # served with bytes that do not match their sha256
              "huge": ["model.safetensors"],        # announced as 1 PiB (X-Linked-Size)
              "slow": ["model.safetensors"]}]}      # sent 2 KiB every 20 ms (for a cancel midway)

What it does as the real Hub does (huggingface_hub's file_download.py / hf_api.py):
  GET  /api/models/{id}/revision/{rev}   {"sha", "siblings": [{"rfilename"}], "gated"}
  HEAD/GET /{id}/resolve/{rev}/{file}   small files: 200, ETag = git blob sha1, X-Repo-Commit;
                                        LFS files (*.safetensors, *.bin, *.h5, *.msgpack, *.onnx, *.ot): 302 to the
                                        CDN port with X-Linked-Etag (sha256) and X-Linked-Size
  Range: bytes=N-                       206 with Content-Range, on both ports
  errors                                X-Error-Code RepoNotFound (401), RevisionNotFound (404),
                                        EntryNotFound (404), GatedRepo (401 without a token, 403 with a wrong one)
Test controls (on the Hub port):
  GET /_control/drop?file=NAME&after=N&times=K   the next K GETs of NAME on the CDN send N bytes and hang up
"""
import hashlib
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LFS_SUFFIXES = (".safetensors", ".bin", ".h5", ".msgpack", ".onnx", ".ot")

config = json.load(open(sys.argv[1]))
log_path = sys.argv[2]
log_lock = threading.Lock()
drops = {}  # file name -> [after, times]
repos = {}
slow = set()  # "repo/sha256" of files the CDN sends slowly
blobs = {}  # "repo/sha256" -> bytes the CDN serves (a repo may serve wrong bytes for a sha256 another serves right)


def is_lfs(name):
    return name.endswith(LFS_SUFFIXES)


for r in config["repos"]:
    files = {}
    for root, _, names in os.walk(r["folder"]):
        for n in names:
            path = os.path.join(root, n)
            files[os.path.relpath(path, r["folder"])] = open(path, "rb").read()
    for n in r.get("extra", []):
        files[n] = b"not for bertscope: " + n.encode()
    entry = {"config": r, "files": files, "meta": {}}
    for name, data in files.items():
        sha256 = hashlib.sha256(data).hexdigest()
        served = data
        if name in r.get("corrupt", []):
            served = bytes([data[0] ^ 0xFF]) + data[1:]  # same size, other bytes
        if is_lfs(name):
            blobs[r["id"] + "/" + sha256] = served
            if name in r.get("slow", []):
                slow.add(r["id"] + "/" + sha256)
        size = 1 << 50 if name in r.get("huge", []) else len(data)
        git_sha1 = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        entry["meta"][name] = {"sha256": sha256, "sha1": git_sha1, "size": size, "served": served}
    revisions = {"main": r["commit"], r["commit"]: r["commit"]}
    for ref, commit in r.get("refs", {}).items():
        revisions[ref] = commit
        revisions[commit] = commit
    entry["revisions"] = revisions
    repos[r["id"]] = entry


def log(handler, port_kind):
    with log_lock, open(log_path, "a") as f:
        f.write(json.dumps({"method": handler.command, "port": port_kind, "path": handler.path,
                            "range": handler.headers.get("Range"),
                            "authorization": handler.headers.get("Authorization")}) + "\n")


class Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real Hub: every answer carries Content-Length

    def log_message(self, *args):
        pass

    def answer(self, status, headers=None, body=b""):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, message, extra=None):
        headers = {"X-Error-Code": code, "X-Error-Message": message, "Content-Type": "application/json"}
        headers.update(extra or {})
        self.answer(status, headers, json.dumps({"error": message}).encode())

    def send_bytes(self, data, headers, drop_after=None, slowly=False):
        """200 or 206 (Range) with `data`; hangs up after `drop_after` bytes when given."""
        start = 0
        rng = self.headers.get("Range")
        status = 200
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                return self.answer(416, {"Content-Range": "bytes */%d" % len(data)})
            status = 206
            headers = dict(headers, **{"Content-Range": "bytes %d-%d/%d" % (start, len(data) - 1, len(data))})
        body = data[start:]
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if drop_after is not None and drop_after < len(body):
            self.wfile.write(body[:drop_after])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)  # a connection that drops midway
            self.close_connection = True
            return
        if slowly:
            for i in range(0, len(body), 2048):
                self.wfile.write(body[i:i + 2048])
                self.wfile.flush()
                time.sleep(0.02)
            return
        self.wfile.write(body)


class Hub(Base):
    def do_HEAD(self):
        self.route()

    def do_GET(self):
        self.route()

    def authorized(self, entry):
        return self.headers.get("Authorization") == "Bearer " + config.get("token", "")

    def route(self):
        log(self, "hub")
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        if path == "/_control/drop":
            q = urllib.parse.parse_qs(url.query)
            drops[q["file"][0]] = [int(q["after"][0]), int(q["times"][0])]
            return self.answer(200, {}, b"ok")
        if path.startswith("/api/models/"):
            rest = url.path[len("/api/models/"):]
            repo_part, sep, rev = rest.partition("/revision/")
            repo_id = urllib.parse.unquote(repo_part)
            rev = urllib.parse.unquote(rev) if sep else "main"
            entry = repos.get(repo_id)
            if entry is None:
                return self.error(401, "RepoNotFound", "Repository not found")
            if rev not in entry["revisions"]:
                return self.error(404, "RevisionNotFound", "Invalid rev id: " + rev)
            info = {"id": repo_id, "modelId": repo_id, "sha": entry["revisions"][rev], "private": False,
                    "gated": "manual" if entry["config"].get("gated") else False,
                    "siblings": [{"rfilename": n} for n in sorted(entry["files"])]}
            return self.answer(200, {"Content-Type": "application/json"}, json.dumps(info).encode())
        if "/resolve/" in url.path:
            repo_part, _, rest = url.path[1:].partition("/resolve/")
            rev, _, name = rest.partition("/")
            repo_id, rev, name = urllib.parse.unquote(repo_part), urllib.parse.unquote(rev), urllib.parse.unquote(name)
            entry = repos.get(repo_id)
            if entry is None:
                return self.error(401, "RepoNotFound", "Repository not found")
            if rev not in entry["revisions"]:
                return self.error(404, "RevisionNotFound", "Invalid rev id: " + rev)
            commit = entry["revisions"][rev]
            if entry["config"].get("gated") and not self.authorized(entry):
                has_token = self.headers.get("Authorization") is not None
                return self.error(403 if has_token else 401, "GatedRepo",
                                  "Access to model %s is restricted." % repo_id, {"X-Repo-Commit": commit})
            meta = entry["meta"].get(name)
            if meta is None:
                return self.error(404, "EntryNotFound", "Entry not found", {"X-Repo-Commit": commit})
            if is_lfs(name):
                cdn = "http://127.0.0.1:%d/lfs/%s/%s?name=%s" % (cdn_port, repo_id, meta["sha256"], urllib.parse.quote(name))
                return self.answer(302, {"Location": cdn, "X-Repo-Commit": commit,
                                         "X-Linked-Etag": '"%s"' % meta["sha256"], "X-Linked-Size": str(meta["size"]),
                                         "ETag": 'W/"%s"' % meta["sha1"]})
            return self.send_bytes(entry["files"][name], {"ETag": '"%s"' % meta["sha1"], "X-Repo-Commit": commit})
        self.answer(404, {}, b"not found")


class Cdn(Base):
    def do_HEAD(self):
        self.route()

    def do_GET(self):
        self.route()

    def route(self):
        log(self, "cdn")
        url = urllib.parse.urlsplit(self.path)
        if not url.path.startswith("/lfs/"):
            return self.answer(404, {}, b"not found")
        key = urllib.parse.unquote(url.path[len("/lfs/"):])
        data = blobs.get(key)
        if data is None:
            return self.answer(404, {}, b"no such blob")
        name = urllib.parse.parse_qs(url.query).get("name", [""])[0]
        drop_after = None
        if self.command == "GET" and name in drops and drops[name][1] > 0:
            drops[name][1] -= 1
            drop_after = drops[name][0]
        try:
            self.send_bytes(data, {"Content-Type": "application/octet-stream"}, drop_after, key in slow)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (a cancel)


hub = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
cdn = ThreadingHTTPServer(("127.0.0.1", 0), Cdn)
hub.daemon_threads = cdn.daemon_threads = True
cdn_port = cdn.server_address[1]
threading.Thread(target=cdn.serve_forever, daemon=True).start()
print("PORTS %d %d" % (hub.server_address[1], cdn_port), flush=True)
hub.serve_forever()
