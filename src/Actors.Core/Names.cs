namespace Actors;

/// <summary>The rules for queue and message type names.</summary>
public static class Names
{
    /// <summary>Longest queue name.</summary>
    public const int MaxQueueNameLength = 64;

    /// <summary>Longest message type name.</summary>
    public const int MaxTypeNameLength = 128;

    /// <summary>The queue name rule, for error messages.</summary>
    public const string QueueNameRule = "1–64 characters: ASCII letters, digits, '-', '_' or '.', starting with a letter or digit";

    /// <summary>The type name rule, for error messages.</summary>
    public const string TypeNameRule = "1–128 characters: ASCII letters, digits, '-', '_', '.' or ':', starting with a letter or digit";

    /// <summary>True when <paramref name="name"/> is a valid queue name (safe in URLs, actor names and persistence ids).</summary>
    public static bool IsValidQueueName(string? name) => IsValid(name, MaxQueueNameLength, allowColon: false);

    /// <summary>True when <paramref name="type"/> is a valid message type name, such as <c>send_email</c> or <c>billing:invoice.created</c>.</summary>
    public static bool IsValidMessageType(string? type) => IsValid(type, MaxTypeNameLength, allowColon: true);

    private static bool IsValid(string? value, int maxLength, bool allowColon)
    {
        if (string.IsNullOrEmpty(value) || value.Length > maxLength || !char.IsAsciiLetterOrDigit(value[0])) return false;
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' || (allowColon && c == ':'))) return false;
        }
        return true;
    }
}
