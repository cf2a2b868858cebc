package dev.spindle.daemon;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A git:// address that accepts connections and never answers: an image make from it stays {@code
 * writing} for as long as the test needs, with no timing involved.
 */
final class HangingGitServer implements AutoCloseable {
  private final ServerSocket socket;
  private final List<Socket> held = new ArrayList<>();

  HangingGitServer() throws IOException {
    socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t =
        new Thread(
            () -> {
              try {
                while (true) {
                  Socket s = socket.accept();
                  synchronized (held) {
                    held.add(s);
                  }
                }
              } catch (IOException closed) {
                // close() ends the loop
              }
            },
            "hanging-git");
    t.setDaemon(true);
    t.start();
  }

  String url() {
    return "git://127.0.0.1:" + socket.getLocalPort() + "/never.git";
  }

  @Override
  public void close() throws IOException {
    socket.close();
    synchronized (held) {
      for (Socket s : held) {
        s.close();
      }
    }
  }
}
