using System.Security.Cryptography;

namespace ServerlessImaging.Dicom.Web.Multipart;

/// <summary>Boundary generation and validation (RFC 2046 section 5.1.1).</summary>
public static class MultipartBoundary
{
    private const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /// <summary>A random 40-character boundary; the odds of it appearing inside a DICOM file are negligible.</summary>
    public static string Create()
    {
        Span<char> chars = stackalloc char[40];
        "DICOMweb-".AsSpan().CopyTo(chars);
        for (var i = 9; i < chars.Length; i++)
        {
            chars[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        }
        return new string(chars);
    }

    /// <summary>Longest boundary accepted when reading. RFC 2046 says 70, but Orthanc 1.10 sends 72.</summary>
    public const int MaxReadLength = 256;

    /// <summary>Characters from the RFC 2046 bchars set, not ending with a space, at most <see cref="MaxReadLength"/> long.</summary>
    public static bool IsValid(string boundary)
    {
        ArgumentNullException.ThrowIfNull(boundary);
        if (boundary.Length is 0 or > MaxReadLength || boundary[^1] == ' ')
        {
            return false;
        }
        foreach (var c in boundary)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "'()+_,-./:=? ".Contains(c, StringComparison.Ordinal)))
            {
                return false;
            }
        }
        return true;
    }
}
