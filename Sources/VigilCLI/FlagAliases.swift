/// Old flag spellings, still accepted but not shown in help: rewritten to the current flags before
/// the command line is parsed.
enum FlagAliases {
    struct Alias {
        /// The old flag (`--in`).
        var old: String
        /// The current flag (`--data`).
        var new: String
        /// Put before the value (`--ood-scores F` becomes `--anomaly ood=F`).
        var valuePrefix: String = ""
    }

    /// Per command (`detect evaluate`), its old flags.
    static let table: [String: [Alias]] = [
        "detect evaluate": [
            Alias(old: "--in", new: "--data"),
            Alias(old: "--report", new: "--html"),
        ],
        "detect metrics": [
            Alias(old: "--in-scores", new: "--data"),
            Alias(old: "--ood-scores", new: "--anomaly", valuePrefix: "ood="),
        ],
    ]

    /// The arguments with the old flags of the command they name replaced (both `--old VALUE` and
    /// `--old=VALUE`); arguments after `--` are left alone.
    static func rewrite(_ arguments: [String]) -> [String] {
        guard let aliases = table[CommandPath.name(CommandPath.resolve(arguments))], !aliases.isEmpty else { return arguments }
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                result += arguments[(index - 1)...]
                break
            }
            let (flag, inlineValue) = split(argument)
            guard let alias = aliases.first(where: { $0.old == flag }) else {
                result.append(argument)
                continue
            }
            result.append(alias.new)
            if let inlineValue {
                result.append(alias.valuePrefix + inlineValue)
            } else if index < arguments.count {
                result.append(alias.valuePrefix + arguments[index])
                index += 1
            }
        }
        return result
    }

    private static func split(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }
}
