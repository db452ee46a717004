//! Opening a connection: TLS if configured, then which HTTP version it speaks.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

/// The first bytes of every HTTP/2 connection (RFC 9113 §3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

pub(super) trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

#[derive(Debug, thiserror::Error)]
pub(super) enum OpenError {
    #[error("TLS: {0}")]
    Tls(io::Error),
    #[error("{0}")]
    Io(io::Error),
}

/// Completes the TLS handshake (with `tls`) and finds the HTTP version: from
/// ALPN when the client offered it, else from the first bytes, which are
/// given back to the HTTP server in front of the rest. Returns the stream and
/// whether it speaks HTTP/2. The caller bounds the time this takes.
pub(super) async fn open(
    socket: TcpStream,
    tls: Option<TlsAcceptor>,
) -> Result<(Prefixed<Box<dyn Stream>>, bool), OpenError> {
    let (mut stream, alpn): (Box<dyn Stream>, Option<Vec<u8>>) = match tls {
        Some(acceptor) => {
            let tls = acceptor.accept(socket).await.map_err(OpenError::Tls)?;
            let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
            (Box::new(tls), alpn)
        }
        None => (Box::new(socket), None),
    };
    match alpn.as_deref() {
        Some(b"h2") => Ok((Prefixed::new(stream, Vec::new()), true)),
        Some(_) => Ok((Prefixed::new(stream, Vec::new()), false)),
        None => {
            let (first, http2) = sniff(&mut stream).await.map_err(OpenError::Io)?;
            Ok((Prefixed::new(stream, first), http2))
        }
    }
}

/// Reads until the bytes either are the whole HTTP/2 preface or cannot be.
async fn sniff<R: AsyncRead + Unpin>(stream: &mut R) -> io::Result<(Vec<u8>, bool)> {
    let mut first = Vec::with_capacity(H2_PREFACE.len());
    let mut chunk = [0u8; H2_PREFACE.len()];
    loop {
        let n = stream
            .read(&mut chunk[..H2_PREFACE.len() - first.len()])
            .await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        first.extend_from_slice(&chunk[..n]);
        if !H2_PREFACE.starts_with(&first) {
            return Ok((first, false));
        }
        if first.len() == H2_PREFACE.len() {
            return Ok((first, true));
        }
    }
}

/// A stream that first yields bytes already read from it.
pub(super) struct Prefixed<S> {
    prefix: Vec<u8>,
    at: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    fn new(inner: S, prefix: Vec<u8>) -> Self {
        Prefixed {
            prefix,
            at: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.at < self.prefix.len() {
            let rest = &self.prefix[self.at..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            self.at += n;
            if self.at == self.prefix.len() {
                self.prefix = Vec::new();
                self.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt as _;

    async fn sniffed(sent: &[&[u8]]) -> (Vec<u8>, bool, Vec<u8>) {
        let (mut client, server) = tokio::io::duplex(1024);
        for part in sent {
            client.write_all(part).await.unwrap();
        }
        drop(client);
        let mut server = server;
        let (first, http2) = sniff(&mut server).await.unwrap();
        let mut all = Vec::new();
        Prefixed::new(server, first.clone())
            .read_to_end(&mut all)
            .await
            .unwrap();
        (first, http2, all)
    }

    #[tokio::test]
    async fn the_http2_preface_is_recognised_even_when_it_arrives_in_pieces() {
        let (first, http2, all) =
            sniffed(&[b"PRI * HTTP/2.0\r\n", b"\r\nSM\r\n\r\n", b"frames"]).await;
        assert!(http2);
        assert_eq!(first, H2_PREFACE);
        assert_eq!(all, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nframes");
    }

    #[tokio::test]
    async fn http1_is_recognised_without_waiting_for_more_and_nothing_is_lost() {
        // what one read brings (at most the preface's length) is enough to tell
        let (first, http2, all) = sniffed(&[b"POST /v1/logs HTTP/1.1\r\nHost: v\r\n\r\n"]).await;
        assert!(!http2);
        assert_eq!(first, b"POST /v1/logs HTTP/1.1\r\n");
        assert_eq!(all, b"POST /v1/logs HTTP/1.1\r\nHost: v\r\n\r\n");
        // a client that sends a byte at a time is told apart at the first that differs
        let (client, mut server) = tokio::io::duplex(64);
        let mut client = client;
        let talk = tokio::spawn(async move {
            for b in b"PUT" {
                client.write_all(&[*b]).await.unwrap();
                tokio::task::yield_now().await;
            }
            client
        });
        let (first, http2) = sniff(&mut server).await.unwrap();
        assert!(!http2);
        assert!(first == b"PU" || first == b"PUT", "{first:?}");
        drop(talk.await.unwrap());
    }

    #[tokio::test]
    async fn a_connection_closed_before_it_says_anything_is_an_error() {
        let (client, mut server) = tokio::io::duplex(64);
        drop(client);
        let e = sniff(&mut server).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        let (mut client, mut server) = tokio::io::duplex(64);
        client.write_all(b"PRI * HT").await.unwrap();
        drop(client);
        let e = sniff(&mut server).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }
}
