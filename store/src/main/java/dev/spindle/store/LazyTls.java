package dev.spindle.store;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A TLS context for {@code java.net.http} clients that trusts exactly what the JDK's default
 * context trusts, but reads the trust store only at the first TLS handshake. A client built without
 * a context takes {@code SSLContext.getDefault()} at once, which parses every certificate of the
 * JDK's trust store even when all its requests are plain {@code http://}, as a node's client and a
 * lazy image's blob fetches are: 0.3-0.9 s of a CLI or node start on this machine.
 */
public final class LazyTls {
  private static volatile SSLContext context;

  private LazyTls() {}

  /**
   * The context; the JDK's default itself when a key store is configured for client certificates
   * ({@code javax.net.ssl.keyStore}), which only the default context reads.
   */
  public static SSLContext context() {
    SSLContext c = context;
    if (c == null) {
      synchronized (LazyTls.class) {
        c = context;
        if (c == null) {
          c = make();
          context = c;
        }
      }
    }
    return c;
  }

  private static SSLContext make() {
    try {
      if (System.getProperty("javax.net.ssl.keyStore") != null) {
        return SSLContext.getDefault();
      }
      SSLContext c = SSLContext.getInstance("TLS");
      c.init(null, new TrustManager[] {new DeferredTrust()}, null);
      return c;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no TLS context: " + e.getMessage(), e);
    }
  }

  /** The default trust manager (trust store and checks), made when first asked. */
  private static final class DeferredTrust extends X509ExtendedTrustManager {
    private volatile X509ExtendedTrustManager delegate;

    private X509ExtendedTrustManager delegate() throws CertificateException {
      X509ExtendedTrustManager d = delegate;
      if (d == null) {
        synchronized (this) {
          d = delegate;
          if (d == null) {
            d = defaultTrust();
            delegate = d;
          }
        }
      }
      return d;
    }

    private static X509ExtendedTrustManager defaultTrust() throws CertificateException {
      try {
        TrustManagerFactory f =
            TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        f.init((KeyStore) null); // the JDK's trust store, or javax.net.ssl.trustStore
        for (TrustManager m : f.getTrustManagers()) {
          if (m instanceof X509ExtendedTrustManager x) {
            return x;
          }
        }
        throw new CertificateException("the default trust manager factory has no X.509 manager");
      } catch (GeneralSecurityException e) {
        throw new CertificateException("cannot load the default trust store: " + e.getMessage(), e);
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      delegate().checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      delegate().checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      delegate().checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      delegate().checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      delegate().checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      delegate().checkServerTrusted(chain, authType, engine);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      try {
        return delegate().getAcceptedIssuers();
      } catch (CertificateException e) {
        return new X509Certificate[0]; // nothing trusted: every handshake then fails in check*
      }
    }
  }
}
