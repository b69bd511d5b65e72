namespace NativeSeg.Models.Detection;

/// <summary>
/// RPN anchors: per FPN level (p2..p6) one size (32..512) and three aspect ratios h/w (0.5, 1, 2), laid out
/// as index = (y·W + x)·3 + ratio, the order of the RPN head's permuted outputs. The flavours differ in the
/// cell anchors (exact, rounded, or Detectron's "+1" quantised ones) and, for torchvision, in the stride.
/// </summary>
public static class AnchorGenerator
{
    public static readonly int[] Sizes = [32, 64, 128, 256, 512];

    public static readonly float[] AspectRatios = [0.5f, 1f, 2f];

    public const int PerCell = 3;

    /// <summary>The cell anchors [3 × (x1, y1, x2, y2)] of one level, centred on the cell's origin.</summary>
    public static float[] CellAnchors(RcnnFlavor flavor, int size, int stride) => flavor switch
    {
        RcnnFlavor.Detectron2 => Detectron2Cell(size),
        RcnnFlavor.Torchvision => TorchvisionCell(size),
        _ => DetectronQuantisedCell(size, stride),
    };

    /// <summary>
    /// The grid stride (height, width) of a feature map. torchvision derives it as padded image size // map
    /// size, which for p6 of an image whose p5 has odd sides is not 64 (e.g. 800 // 13 = 61).
    /// </summary>
    public static (int H, int W) Stride(RcnnFlavor flavor, int nominal, int paddedH, int paddedW, int mapH, int mapW) =>
        flavor == RcnnFlavor.Torchvision ? (paddedH / mapH, paddedW / mapW) : (nominal, nominal);

    /// <summary>All anchors of one level, [H·W·3 × 4] flattened.</summary>
    public static float[] Grid(float[] cell, (int H, int W) stride, int mapH, int mapW)
    {
        var anchors = new float[mapH * mapW * PerCell * 4];
        int i = 0;
        for (int y = 0; y < mapH; y++)
        {
            float sy = y * stride.H;
            for (int x = 0; x < mapW; x++)
            {
                float sx = x * stride.W;
                for (int a = 0; a < PerCell; a++)
                {
                    anchors[i++] = sx + cell[a * 4];
                    anchors[i++] = sy + cell[a * 4 + 1];
                    anchors[i++] = sx + cell[a * 4 + 2];
                    anchors[i++] = sy + cell[a * 4 + 3];
                }
            }
        }
        return anchors;
    }

    // detectron2's DefaultAnchorGenerator: w = sqrt(size²/ratio), h = ratio·w in double, halved, unrounded.
    private static float[] Detectron2Cell(int size)
    {
        var cell = new float[PerCell * 4];
        for (int a = 0; a < PerCell; a++)
        {
            double w = Math.Sqrt((double)size * size / AspectRatios[a]), h = AspectRatios[a] * w;
            cell[a * 4] = (float)(-w / 2);
            cell[a * 4 + 1] = (float)(-h / 2);
            cell[a * 4 + 2] = (float)(w / 2);
            cell[a * 4 + 3] = (float)(h / 2);
        }
        return cell;
    }

    // torchvision's AnchorGenerator.generate_anchors: float32 sqrt of the ratio, then round half to even.
    private static float[] TorchvisionCell(int size)
    {
        var cell = new float[PerCell * 4];
        for (int a = 0; a < PerCell; a++)
        {
            float hRatio = MathF.Sqrt(AspectRatios[a]), wRatio = 1f / hRatio;
            float ws = wRatio * size, hs = hRatio * size;
            cell[a * 4] = MathF.Round(-ws / 2);
            cell[a * 4 + 1] = MathF.Round(-hs / 2);
            cell[a * 4 + 2] = MathF.Round(ws / 2);
            cell[a * 4 + 3] = MathF.Round(hs / 2);
        }
        return cell;
    }

    // Detectron's generate_anchors (maskrcnn-benchmark): ratios applied to the stride×stride base box with
    // numpy rounding of the side lengths, then scaled by size/stride, inclusive "+1" coordinates.
    private static float[] DetectronQuantisedCell(int size, int stride)
    {
        var cell = new float[PerCell * 4];
        double baseCtr = 0.5 * (stride - 1), area = (double)stride * stride, scale = (double)size / stride;
        for (int a = 0; a < PerCell; a++)
        {
            double ws = Math.Round(Math.Sqrt(area / AspectRatios[a])), hs = Math.Round(ws * AspectRatios[a]);
            double w = ws * scale, h = hs * scale;
            cell[a * 4] = (float)(baseCtr - 0.5 * (w - 1));
            cell[a * 4 + 1] = (float)(baseCtr - 0.5 * (h - 1));
            cell[a * 4 + 2] = (float)(baseCtr + 0.5 * (w - 1));
            cell[a * 4 + 3] = (float)(baseCtr + 0.5 * (h - 1));
        }
        return cell;
    }
}
