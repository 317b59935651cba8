using System.Text;

namespace ServerlessImaging.Dicom;

/// <summary>
/// The Specific Character Set (0008,0005) of a dataset (PS3.5 6.1, PS3.3 C.12.1.1.2): decodes and encodes
/// SH/LO/ST/LT/UT/PN/UC (and, harmlessly, the ASCII-only VRs) strictly. Bytes that are not valid in the declared
/// repertoire raise <see cref="DicomCharacterSetException"/>; there is no silent replacement character.
/// Supported: default repertoire, ISO_IR 100/101/109/110/144/127/126/138/148/203/13/166, ISO_IR 192 (UTF-8), GB18030, GBK,
/// and ISO 2022 code extensions IR 6, the same single-byte sets, IR 13 and IR 87 (Japanese), IR 149 (Korean), IR 58 (Chinese).
/// IR 159 (JIS X 0212) is not available in .NET and raises the exception.
/// </summary>
public sealed class DicomCharacterSet
{
    static DicomCharacterSet() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>The default character repertoire (ASCII).</summary>
    public static DicomCharacterSet Default { get; } = new([""], null, []);

    public static DicomCharacterSet Utf8 { get; } = Parse(["ISO_IR 192"]);

    private readonly Encoding? _single; // non-null for the no-extension cases
    private readonly Designation[] _extensions; // non-empty for ISO 2022

    private DicomCharacterSet(string[] terms, Encoding? single, Designation[] extensions)
    {
        Terms = terms;
        _single = single;
        _extensions = extensions;
    }

    /// <summary>The defined terms as declared, e.g. ["", "ISO 2022 IR 87"].</summary>
    public IReadOnlyList<string> Terms { get; }

    public bool IsDefault => _single is null && _extensions.Length == 0;

    public bool UsesCodeExtensions => _extensions.Length > 0;

    private static Encoding Strict(int codePage) =>
        Encoding.GetEncoding(codePage, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);

    private static readonly Encoding Ascii = Encoding.GetEncoding(20127, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);

    // Single-byte sets: term (without "ISO 2022 " form), code page, G1 escape final byte (ESC - F).
    private static readonly (string Ir, int CodePage, byte Final)[] SingleByte =
    [
        ("100", 28591, (byte)'A'), ("101", 28592, (byte)'B'), ("109", 28593, (byte)'C'), ("110", 28594, (byte)'D'),
        ("144", 28595, (byte)'L'), ("127", 28596, (byte)'G'), ("126", 28597, (byte)'F'), ("138", 28598, (byte)'H'),
        ("148", 28599, (byte)'M'), ("203", 28605, (byte)'b'), ("166", 874, (byte)'T'),
    ];

    /// <summary>Builds the character set from the values of (0008,0005). Throws <see cref="DicomCharacterSetException"/> for unknown terms.</summary>
    public static DicomCharacterSet Parse(IReadOnlyList<string> terms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        var cleaned = terms.Select(t => t.Trim()).ToArray();
        if (cleaned.Length == 0 || (cleaned.Length == 1 && cleaned[0] is "" or "ISO_IR 6"))
        {
            return Default;
        }
        var iso2022 = cleaned.Length > 1 || cleaned[0].StartsWith("ISO 2022", StringComparison.Ordinal);
        if (!iso2022)
        {
            var t = cleaned[0];
            Encoding enc = t switch
            {
                "ISO_IR 192" => new UTF8Encoding(false, throwOnInvalidBytes: true),
                "GB18030" => Strict(54936),
                "GBK" => Strict(936),
                "ISO_IR 13" => Strict(932),
                _ when t.StartsWith("ISO_IR ", StringComparison.Ordinal) && SingleByte.Any(s => s.Ir == t[7..]) =>
                    Strict(SingleByte.First(s => s.Ir == t[7..]).CodePage),
                _ => throw new DicomCharacterSetException($"Specific Character Set '{t}' is not supported"),
            };
            return new DicomCharacterSet(cleaned, enc, []);
        }
        var list = new List<Designation>();
        foreach (var term in cleaned)
        {
            var ir = term switch
            {
                "" => "6",
                _ when term.StartsWith("ISO 2022 IR ", StringComparison.Ordinal) => term["ISO 2022 IR ".Length..],
                _ when term.StartsWith("ISO_IR ", StringComparison.Ordinal) => term[7..],
                _ => throw new DicomCharacterSetException($"Specific Character Set '{term}' is not supported with code extensions"),
            };
            list.Add(ir switch
            {
                "6" => new Designation(SetKind.Ascii, null, [0x1B, (byte)'(', (byte)'B']),
                "13" => new Designation(SetKind.Katakana, null, [0x1B, (byte)')', (byte)'I']),
                "87" => new Designation(SetKind.Jis0208, Strict(51932), [0x1B, (byte)'$', (byte)'B']),
                "149" => new Designation(SetKind.G1Double, Strict(51949), [0x1B, (byte)'$', (byte)')', (byte)'C']),
                "58" => new Designation(SetKind.G1Double, Strict(936), [0x1B, (byte)'$', (byte)')', (byte)'A']),
                "159" => throw new DicomCharacterSetException("ISO 2022 IR 159 (JIS X 0212) is not supported"),
                _ when SingleByte.Any(s => s.Ir == ir) => SingleByteDesignation(ir),
                _ => throw new DicomCharacterSetException($"Specific Character Set '{term}' is not supported"),
            });
        }
        return new DicomCharacterSet(cleaned, null, [.. list]);
    }

    private static Designation SingleByteDesignation(string ir)
    {
        var s = SingleByte.First(x => x.Ir == ir);
        return new Designation(SetKind.G1Single, Strict(s.CodePage), [0x1B, (byte)'-', s.Final]);
    }

    /// <summary>Decodes one element value (all its backslash-separated values) to text.</summary>
    public string Decode(ReadOnlySpan<byte> bytes, bool isPersonName = false)
    {
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }
        try
        {
            if (_extensions.Length > 0)
            {
                return DecodeIso2022(bytes, isPersonName);
            }
            return (_single ?? Ascii).GetString(bytes);
        }
        catch (DecoderFallbackException ex)
        {
            throw new DicomCharacterSetException(
                $"Text is not valid in character set '{string.Join('\\', Terms)}' (byte offset {ex.Index} in the value)", ex);
        }
    }

    /// <summary>Encodes text for a value in this character set; throws <see cref="DicomCharacterSetException"/> when a character has no encoding here.</summary>
    public byte[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0)
        {
            return [];
        }
        try
        {
            if (_extensions.Length > 0)
            {
                return EncodeIso2022(text);
            }
            return (_single ?? Ascii).GetBytes(text);
        }
        catch (EncoderFallbackException ex)
        {
            throw new DicomCharacterSetException(
                $"A character at index {ex.Index} cannot be encoded in character set '{string.Join('\\', Terms)}'", ex);
        }
    }

    /// <summary>True when every character of the text can be encoded in this character set.</summary>
    public bool CanEncode(string text)
    {
        try
        {
            Encode(text);
            return true;
        }
        catch (DicomCharacterSetException)
        {
            return false;
        }
    }

    private enum SetKind { Ascii, JisRoman, Katakana, Jis0208, G1Single, G1Double }

    private sealed record Designation(SetKind Kind, Encoding? Encoding, byte[] Escape);

    private Designation? InitialG1 =>
        _extensions[0].Kind is SetKind.G1Single or SetKind.Katakana ? _extensions[0] : null;

    private static readonly Designation AsciiG0 = new(SetKind.Ascii, null, [0x1B, (byte)'(', (byte)'B']);
    private static readonly Designation JisRomanG0 = new(SetKind.JisRoman, null, [0x1B, (byte)'(', (byte)'J']);

    private string DecodeIso2022(ReadOnlySpan<byte> bytes, bool pn)
    {
        var sb = new StringBuilder(bytes.Length);
        Designation g0 = AsciiG0;
        var g1 = InitialG1;
        var i = 0;
        Span<byte> pair = stackalloc byte[2];
        while (i < bytes.Length)
        {
            var b = bytes[i];
            if (b == 0x1B)
            {
                var (designation, len, isG1) = ParseEscape(bytes[i..]);
                if (isG1)
                {
                    g1 = designation;
                }
                else
                {
                    g0 = designation;
                }
                i += len;
                continue;
            }
            if (b < 0x80)
            {
                if (g0.Kind == SetKind.Jis0208 && b > 0x20)
                {
                    if (i + 1 >= bytes.Length)
                    {
                        throw new DicomCharacterSetException("Truncated JIS X 0208 character in text value");
                    }
                    pair[0] = (byte)(b | 0x80);
                    pair[1] = (byte)(bytes[i + 1] | 0x80);
                    sb.Append(g0.Encoding!.GetString(pair));
                    i += 2;
                    continue;
                }
                // Control characters and PN delimiters return G0 to ASCII (PS3.5 6.1.2.5.3).
                if (b is 0x0D or 0x0A or 0x0C or 0x09 || (pn && b is (byte)'^' or (byte)'='))
                {
                    g0 = AsciiG0;
                    if (b is 0x0D or 0x0A or 0x0C || (pn && b == (byte)'='))
                    {
                        g1 = InitialG1;
                    }
                }
                sb.Append((char)b);
                i++;
                continue;
            }
            if (g1 is null)
            {
                throw new DicomCharacterSetException($"Byte above 0x7F with no G1 character set designated (byte offset {i} in the value)");
            }
            switch (g1.Kind)
            {
                case SetKind.Katakana:
                    if (b is < 0xA1 or > 0xDF)
                    {
                        throw new DicomCharacterSetException($"Byte is not JIS X 0201 katakana (byte offset {i} in the value)");
                    }
                    sb.Append((char)(0xFF61 + (b - 0xA1)));
                    i++;
                    break;
                case SetKind.G1Double:
                    if (i + 1 >= bytes.Length)
                    {
                        throw new DicomCharacterSetException("Truncated double-byte character in text value");
                    }
                    sb.Append(g1.Encoding!.GetString(bytes.Slice(i, 2)));
                    i += 2;
                    break;
                default:
                    sb.Append(g1.Encoding!.GetString(bytes.Slice(i, 1)));
                    i++;
                    break;
            }
        }
        return sb.ToString();
    }

    private (Designation Designation, int Length, bool IsG1) ParseEscape(ReadOnlySpan<byte> s)
    {
        if (s.Length >= 3 && s[1] == '(' && s[2] == 'B')
        {
            return (AsciiG0, 3, false);
        }
        if (s.Length >= 3 && s[1] == '(' && s[2] == 'J')
        {
            return (JisRomanG0, 3, false);
        }
        foreach (var d in _extensions)
        {
            if (s.Length >= d.Escape.Length && s[..d.Escape.Length].SequenceEqual(d.Escape))
            {
                return (d, d.Escape.Length, d.Kind is SetKind.G1Single or SetKind.Katakana or SetKind.G1Double);
            }
        }
        throw new DicomCharacterSetException("Escape sequence in text selects a character set not declared in Specific Character Set");
    }

    private byte[] EncodeIso2022(string text)
    {
        var output = new List<byte>(text.Length + 8);
        var g0 = SetKind.Ascii;
        var g1 = InitialG1;
        Span<char> one = stackalloc char[2];
        Span<byte> buf = stackalloc byte[8];
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c < 0x80)
            {
                if (g0 != SetKind.Ascii)
                {
                    output.AddRange(AsciiG0.Escape);
                    g0 = SetKind.Ascii;
                }
                output.Add((byte)c);
                if (c is '\r' or '\n' or '\f' or '=')
                {
                    g1 = InitialG1;
                }
                continue;
            }
            one[0] = c;
            var done = false;
            foreach (var d in _extensions)
            {
                switch (d.Kind)
                {
                    case SetKind.Katakana when c is >= '\uFF61' and <= '\uFF9F':
                        if (g1 != d)
                        {
                            output.AddRange(d.Escape);
                            g1 = d;
                        }
                        output.Add((byte)(c - 0xFF61 + 0xA1));
                        done = true;
                        break;
                    case SetKind.G1Single when TryEncode(d.Encoding!, one[..1], buf, out var n) && n == 1:
                        if (g1 != d)
                        {
                            output.AddRange(d.Escape);
                            g1 = d;
                        }
                        output.Add(buf[0]);
                        done = true;
                        break;
                    case SetKind.G1Double when TryEncode(d.Encoding!, one[..1], buf, out var n) && n == 2:
                        if (g1 != d)
                        {
                            output.AddRange(d.Escape);
                            g1 = d;
                        }
                        output.Add(buf[0]);
                        output.Add(buf[1]);
                        done = true;
                        break;
                    case SetKind.Jis0208 when TryEncode(d.Encoding!, one[..1], buf, out var n) && n == 2 && buf[0] >= 0xA1 && buf[1] >= 0xA1:
                        if (g0 != SetKind.Jis0208)
                        {
                            output.AddRange(d.Escape);
                            g0 = SetKind.Jis0208;
                        }
                        output.Add((byte)(buf[0] & 0x7F));
                        output.Add((byte)(buf[1] & 0x7F));
                        done = true;
                        break;
                }
                if (done)
                {
                    break;
                }
            }
            if (!done)
            {
                throw new DicomCharacterSetException(
                    $"A character at index {i} cannot be encoded in character set '{string.Join('\\', Terms)}'");
            }
        }
        if (g0 != SetKind.Ascii)
        {
            output.AddRange(AsciiG0.Escape);
        }
        return [.. output];
    }

    private static bool TryEncode(Encoding encoding, ReadOnlySpan<char> chars, Span<byte> bytes, out int written)
    {
        try
        {
            written = encoding.GetBytes(chars, bytes);
            return true;
        }
        catch (EncoderFallbackException)
        {
            written = 0;
            return false;
        }
    }

    public override string ToString() => string.Join('\\', Terms);
}

internal static class DicomCharacterSetExtensions
{
    /// <summary>ASCII-only VRs (CS, UI, DA...): bytes above 0x7F are decoded as Latin-1 rather than rejected, so a stray byte in a code string never makes a file unreadable.</summary>
    public static string DecodeLenient(this DicomCharacterSet _, ReadOnlySpan<byte> bytes) => System.Text.Encoding.Latin1.GetString(bytes);
}
