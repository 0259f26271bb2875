#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with `posix_spawn`: descriptor 3 is `output`, stderr a pipe we read,
/// stdin and stdout `/dev/null`, every signal at its default action and none blocked.
final class Spawned {
    enum Outcome: Equatable {
        case exited(Int32, String)
        case signaled(Int32)
        case timedOut
    }

    let pid: pid_t
    private let errorPipe: Int32

    init(arguments: [String], output: Int32, file: String) throws(HDF5Error) {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw HDF5Error(.readerFailed, file: file, object: "/", message: "cannot create a pipe: \(String(cString: strerror(errno)))") }
        _ = fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeEnds[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
        posix_spawn_file_actions_adddup2(&actions, output, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t(), none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        close(pipeEnds[1])
        guard status == 0 else {
            close(pipeEnds[0])
            throw HDF5Error(.readerFailed, file: file, object: "/", message: "cannot start \(arguments[0]): \(String(cString: strerror(status)))")
        }
        self.pid = pid
        errorPipe = pipeEnds[0]
    }

    deinit { close(errorPipe) }

    /// Collects stderr (the first 64 KiB) until the child exits or `timeout` seconds pass; a child
    /// still running then is killed.
    func wait(timeout: Double) -> Outcome {
        let deadline = Self.now() + timeout
        var text: [UInt8] = []
        var open = true
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var status: Int32 = 0
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid {
                if open { drain(&text, &buffer) }
                return Self.outcome(status, text)
            }
            let remaining = deadline - Self.now()
            guard remaining > 0 else {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                return .timedOut
            }
            if open {
                var poller = pollfd(fd: errorPipe, events: Int16(POLLIN), revents: 0)
                let ready = poll(&poller, 1, Int32(min(remaining * 1000, 50).rounded(.up)))
                if ready > 0 {
                    let n = read(errorPipe, &buffer, buffer.count)
                    if n > 0 { if text.count < 65_536 { text += buffer[..<n] } } else if n == 0 || errno != EINTR { open = false }
                }
            } else {
                usleep(1000)
            }
        }
    }

    private func drain(_ text: inout [UInt8], _ buffer: inout [UInt8]) {
        while text.count < 65_536 {
            var poller = pollfd(fd: errorPipe, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 0) > 0 else { return }
            let n = read(errorPipe, &buffer, buffer.count)
            guard n > 0 else { return }
            text += buffer[..<n]
        }
    }

    private static func outcome(_ status: Int32, _ text: [UInt8]) -> Outcome {
        let signal = status & 0x7f
        if signal == 0 { return .exited((status >> 8) & 0xff, String(decoding: text, as: UTF8.self)) }
        return .signaled(signal)
    }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
