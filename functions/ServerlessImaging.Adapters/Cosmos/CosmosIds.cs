using System.Buffers;
using System.Text;

namespace ServerlessImaging.Adapters.Cosmos;

/// <summary>
/// Cosmos DB item ids may not contain '/', '\', '?' or '#', but our ids do (command and timer ids are paths), and
/// percent-escapes are decoded by some gateways on the way. Those characters are spelled with a '~' escape instead
/// ('~' itself doubled), which keeps ids readable, URL-safe and the mapping reversible.
/// </summary>
internal static class CosmosIds
{
    private static readonly SearchValues<char> Escaped = SearchValues.Create("/\\?#~%");

    public static string Encode(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (id.AsSpan().IndexOfAny(Escaped) < 0)
        {
            return id;
        }

        var builder = new StringBuilder(id.Length + 16);
        foreach (var c in id)
        {
            _ = c switch
            {
                '/' => builder.Append("~s"),
                '\\' => builder.Append("~b"),
                '?' => builder.Append("~q"),
                '#' => builder.Append("~h"),
                '%' => builder.Append("~p"),
                '~' => builder.Append("~~"),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }
}
