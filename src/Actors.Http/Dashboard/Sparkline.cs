using System.Globalization;
using System.Text;

namespace Actors.Http.Dashboard;

/// <summary>
/// The overview's sparklines: a small inline SVG polyline drawn on the server (no script, so the page's content
/// security policy has nothing to allow), scaled to its own maximum.
/// </summary>
internal static class Sparkline
{
    /// <summary>The width of a sparkline in pixels.</summary>
    public const int Width = 80;

    /// <summary>The height of a sparkline in pixels.</summary>
    public const int Height = 20;

    /// <summary>An SVG of <paramref name="values"/> (oldest first), titled with <paramref name="title"/>; empty without points.</summary>
    public static string Svg(IReadOnlyList<float> values, string title)
    {
        var svg = new StringBuilder(96 + values.Count * 10)
            .Append("<svg class=\"spark\" width=\"").Append(Width).Append("\" height=\"").Append(Height)
            .Append("\" viewBox=\"0 0 ").Append(Width).Append(' ').Append(Height).Append("\" role=\"img\"><title>").Append(Html.E(title)).Append("</title>");
        if (values.Count > 0)
        {
            var max = Math.Max(1f, values.Max());
            var step = values.Count > 1 ? (Width - 2) / (double)(values.Count - 1) : 0;
            svg.Append("<polyline points=\"");
            for (var i = 0; i < values.Count; i++)
            {
                var x = 1 + i * step;
                var y = Height - 1 - (Height - 2) * Math.Clamp(values[i] / max, 0, 1);
                if (i > 0) svg.Append(' ');
                svg.Append(x.ToString("0.#", CultureInfo.InvariantCulture)).Append(',').Append(y.ToString("0.#", CultureInfo.InvariantCulture));
            }
            svg.Append("\"/>");
        }
        return svg.Append("</svg>").ToString();
    }
}
