//! Connections that hold the service without sending a request: headers sent a byte at a time,
//! sockets that send nothing, and more sockets than the service takes.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};
use support::*;

/// Blocks until `stream` is closed by the server; how long that took from `since`, or `None`
/// if it was still open after 10 s (or answered something instead).
fn closed_after(mut stream: TcpStream, since: Instant) -> Option<Duration> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => Some(since.elapsed()),
        Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
            Some(since.elapsed())
        }
        _ => None,
    }
}

#[test]
fn headers_sent_a_byte_at_a_time_and_silent_sockets_are_cut_off_while_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "digits", 1, &lenet_bundle());
    let bound = Duration::from_secs(1);
    let server = start(dir.path(), |c| c.header_timeout = bound);
    let png = seven_png();
    assert_eq!(
        post(&server.url("/v1/predict"), "image/png", &png).status,
        200
    );

    // A client trickling its request line and headers (a byte every 200 ms: the line alone
    // would take 6 s), and one that connects and sends nothing.
    let connected = Instant::now();
    let slow = TcpStream::connect(server.addr).unwrap();
    let silent = TcpStream::connect(server.addr).unwrap();
    let mut writer = slow.try_clone().unwrap();
    let trickle = thread::spawn(move || {
        let request = b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n";
        for byte in request {
            if writer.write_all(&[*byte]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(200));
        }
    });
    let slow_closed = thread::spawn(move || closed_after(slow, connected));
    let silent_closed = thread::spawn(move || closed_after(silent, connected));

    // Meanwhile the service answers others as usual.
    let mut answered = 0;
    while connected.elapsed() < bound + Duration::from_millis(500) {
        assert_eq!(
            post(&server.url("/v1/predict"), "image/png", &png).status,
            200
        );
        answered += 1;
    }
    assert!(answered > 3, "only {answered} requests answered");

    for (what, closed) in [("trickling", slow_closed), ("silent", silent_closed)] {
        let after = closed.join().unwrap();
        let after = after.unwrap_or_else(|| panic!("the {what} client was not disconnected"));
        assert!(
            after >= bound - Duration::from_millis(100) && after < bound * 3,
            "the {what} client was disconnected after {after:?} (bound {bound:?})"
        );
    }
    trickle.join().unwrap();
    assert_eq!(get(&server.url("/v2/health/ready")).status, 200);
}

/// A keep-alive connection the service has accepted: it answered a request on it.
fn hold(addr: std::net::SocketAddr) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
            .write_all(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut reply = [0u8; 1024];
        let n = stream.read(&mut reply).unwrap_or(0);
        if reply[..n].starts_with(b"HTTP/1.1 200") {
            return stream;
        }
        assert!(Instant::now() < deadline, "no place for a connection");
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn connections_over_the_cap_get_503_and_are_closed_at_once() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "digits", 1, &lenet_bundle());
    let server = start(dir.path(), |c| c.max_connections = 2);
    assert_eq!(get(&server.url("/v2/health/ready")).status, 200);

    // Two keep-alive connections take both places (each proven accepted by an answer, so the
    // connection of the readiness check above, closing, cannot have held one)...
    let holders: Vec<TcpStream> = (0..2).map(|_| hold(server.addr)).collect();
    // ...so a third connection is told to retry and closed, without waiting for anything.
    let started = Instant::now();
    let mut third = TcpStream::connect(server.addr).unwrap();
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reply = String::new();
    third.read_to_string(&mut reply).unwrap();
    assert!(started.elapsed() < Duration::from_secs(1), "{reply}");
    assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
    assert!(reply.contains("retry-after: 1\r\n"), "{reply}");
    assert!(reply.contains("connection limit"), "{reply}");

    // Once the holders go, their places come back.
    drop(holders);
    let deadline = Instant::now() + Duration::from_secs(5);
    let metrics = loop {
        thread::sleep(Duration::from_millis(100));
        let answer = get(&server.url("/metrics"));
        if answer.status == 200 {
            break answer.body;
        }
        assert!(Instant::now() < deadline, "the places never came back");
    };
    let refused: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("inkstone_connections_refused_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no refused-connections counter in\n{metrics}"));
    assert!(refused >= 1, "{metrics}");
    assert_eq!(
        post(&server.url("/v1/predict"), "image/png", &seven_png()).status,
        200
    );
}

#[test]
fn stopping_finishes_the_request_in_flight_and_closes_idle_connections() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "digits", 1, &lenet_bundle());
    let server = start(dir.path(), |_| {});
    let addr = server.addr;
    assert_eq!(get(&server.url("/v2/health/ready")).status, 200);

    let idle = TcpStream::connect(addr).unwrap();
    let png = seven_png();
    let (first, rest) = png.split_at(png.len() / 2);
    let mut busy = TcpStream::connect(addr).unwrap();
    write!(
        busy,
        "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\r\n",
        png.len()
    )
    .unwrap();
    busy.write_all(first).unwrap();
    thread::sleep(Duration::from_millis(200));

    let asked = Instant::now();
    let stopping = thread::spawn(move || server.stop());
    let idle_closed = thread::spawn(move || closed_after(idle, asked));
    thread::sleep(Duration::from_millis(300));
    // No longer accepting, but waiting for the request that is half sent...
    assert!(TcpStream::connect(addr).is_err(), "still accepting");
    assert!(!stopping.is_finished(), "stopped with a request in flight");
    // ...which is answered once its body arrives.
    busy.write_all(rest).unwrap();
    busy.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reply = String::new();
    busy.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("\"predictions\""), "{reply}");
    stopping.join().unwrap().unwrap();
    assert!(asked.elapsed() < Duration::from_secs(5));
    let idle_after = idle_closed
        .join()
        .unwrap()
        .expect("idle connection left open");
    assert!(
        idle_after < Duration::from_secs(1),
        "idle closed after {idle_after:?}"
    );
}

/// A request that sent its headers, announcing a body it never sends.
fn withheld_upload(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(
            b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n\
              Content-Length: 100000\r\n\r\n",
        )
        .unwrap();
    stream
}

#[test]
fn a_thousand_withheld_uploads_hold_no_inference_slot_and_are_answered_408() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "digits", 1, &lenet_bundle());
    let grace = Duration::from_secs(8);
    let server = start(dir.path(), |c| {
        c.max_concurrency = 8;
        c.upload.grace = grace;
    });
    let png = seven_png();
    assert_eq!(
        post(&server.url("/v1/predict"), "image/png", &png).status,
        200
    );
    let opened = Instant::now();
    let slow: Vec<TcpStream> = (0..1000).map(|_| withheld_upload(server.addr)).collect();
    let all_open = opened.elapsed();

    // 1 000 uploads are waiting on 8 slots, yet every ready request is served.
    let mut answered = 0;
    while opened.elapsed() < all_open + Duration::from_secs(1) {
        let answer = post(&server.url("/v1/predict"), "image/png", &png);
        assert_eq!(answer.status, 200, "{}", answer.body);
        answered += 1;
    }
    assert!(answered > 3, "only {answered} requests answered");
    assert!(
        opened.elapsed() < grace,
        "opening took {all_open:?}: the uploads were not all held while others were served"
    );

    // After the grace each withheld upload is told so and closed.
    for mut stream in slow {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply);
        assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
        assert!(reply.contains("slower than"), "{reply}");
    }
    let all_answered = opened.elapsed();
    assert!(
        all_answered >= grace && all_answered < grace * 3,
        "the withheld uploads were answered after {all_answered:?} (grace {grace:?})"
    );
    assert_eq!(
        post(&server.url("/v1/predict"), "image/png", &png).status,
        200
    );
}
