//! The public Alibaba Cloud regions this endpoint answers for.

pub struct Region {
    pub id: &'static str,
    name_en: &'static str,
    name_zh: &'static str,
    name_ja: &'static str,
    /// Served by the central endpoint `slb.aliyuncs.com` rather than `slb.<id>.aliyuncs.com`.
    central: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Chinese,
    English,
    Japanese,
}

impl Language {
    /// `AcceptLanguage`: zh-CN, en-US or ja.
    pub fn parse(tag: &str) -> Option<Language> {
        match tag.to_ascii_lowercase().as_str() {
            "zh-cn" | "zh" => Some(Language::Chinese),
            "en-us" | "en" => Some(Language::English),
            "ja" | "ja-jp" => Some(Language::Japanese),
            _ => None,
        }
    }
}

impl Region {
    pub fn local_name(&self, language: Language) -> &'static str {
        match language {
            Language::Chinese => self.name_zh,
            Language::English => self.name_en,
            Language::Japanese => self.name_ja,
        }
    }

    pub fn endpoint(&self) -> String {
        if self.central {
            "slb.aliyuncs.com".into()
        } else {
            format!("slb.{}.aliyuncs.com", self.id)
        }
    }
}

const fn region(
    id: &'static str,
    name_en: &'static str,
    name_zh: &'static str,
    name_ja: &'static str,
    central: bool,
) -> Region {
    Region {
        id,
        name_en,
        name_zh,
        name_ja,
        central,
    }
}

pub static REGIONS: &[Region] = &[
    region(
        "cn-qingdao",
        "China (Qingdao)",
        "华北1（青岛）",
        "中国 (青島)",
        true,
    ),
    region(
        "cn-beijing",
        "China (Beijing)",
        "华北2（北京）",
        "中国 (北京)",
        true,
    ),
    region(
        "cn-zhangjiakou",
        "China (Zhangjiakou)",
        "华北3（张家口）",
        "中国 (張家口)",
        false,
    ),
    region(
        "cn-huhehaote",
        "China (Hohhot)",
        "华北5（呼和浩特）",
        "中国 (フフホト)",
        false,
    ),
    region(
        "cn-wulanchabu",
        "China (Ulanqab)",
        "华北6（乌兰察布）",
        "中国 (ウランチャブ)",
        false,
    ),
    region(
        "cn-hangzhou",
        "China (Hangzhou)",
        "华东1（杭州）",
        "中国 (杭州)",
        true,
    ),
    region(
        "cn-shanghai",
        "China (Shanghai)",
        "华东2（上海）",
        "中国 (上海)",
        true,
    ),
    region(
        "cn-nanjing",
        "China (Nanjing - Local Region)",
        "华东5（南京-本地地域）",
        "中国 (南京 - ローカルリージョン)",
        false,
    ),
    region(
        "cn-fuzhou",
        "China (Fuzhou - Local Region)",
        "华东6（福州-本地地域）",
        "中国 (福州 - ローカルリージョン)",
        false,
    ),
    region(
        "cn-wuhan-lr",
        "China (Wuhan - Local Region)",
        "华中1（武汉-本地地域）",
        "中国 (武漢 - ローカルリージョン)",
        false,
    ),
    region(
        "cn-shenzhen",
        "China (Shenzhen)",
        "华南1（深圳）",
        "中国 (深セン)",
        true,
    ),
    region(
        "cn-heyuan",
        "China (Heyuan)",
        "华南2（河源）",
        "中国 (河源)",
        false,
    ),
    region(
        "cn-guangzhou",
        "China (Guangzhou)",
        "华南3（广州）",
        "中国 (広州)",
        false,
    ),
    region(
        "cn-chengdu",
        "China (Chengdu)",
        "西南1（成都）",
        "中国 (成都)",
        false,
    ),
    region(
        "cn-hongkong",
        "China (Hong Kong)",
        "中国香港",
        "中国 (香港)",
        true,
    ),
    region(
        "cn-shanghai-finance-1",
        "China East 2 Finance",
        "华东2 金融云",
        "中国東部 2 金融",
        true,
    ),
    region(
        "cn-shenzhen-finance-1",
        "China South 1 Finance",
        "华南1 金融云",
        "中国南部 1 金融",
        false,
    ),
    region(
        "cn-beijing-finance-1",
        "China North 2 Finance",
        "华北2 金融云",
        "中国北部 2 金融",
        false,
    ),
    region(
        "cn-north-2-gov-1",
        "China North 2 Ali Gov 1",
        "华北2 阿里政务云1",
        "中国北部 2 政府",
        true,
    ),
    region(
        "ap-northeast-1",
        "Japan (Tokyo)",
        "日本（东京）",
        "日本 (東京)",
        false,
    ),
    region(
        "ap-northeast-2",
        "South Korea (Seoul)",
        "韩国（首尔）",
        "韓国 (ソウル)",
        false,
    ),
    region(
        "ap-southeast-1",
        "Singapore",
        "新加坡",
        "シンガポール",
        true,
    ),
    region(
        "ap-southeast-3",
        "Malaysia (Kuala Lumpur)",
        "马来西亚（吉隆坡）",
        "マレーシア (クアラルンプール)",
        false,
    ),
    region(
        "ap-southeast-5",
        "Indonesia (Jakarta)",
        "印度尼西亚（雅加达）",
        "インドネシア (ジャカルタ)",
        false,
    ),
    region(
        "ap-southeast-6",
        "Philippines (Manila)",
        "菲律宾（马尼拉）",
        "フィリピン (マニラ)",
        false,
    ),
    region(
        "ap-southeast-7",
        "Thailand (Bangkok)",
        "泰国（曼谷）",
        "タイ (バンコク)",
        false,
    ),
    region(
        "us-east-1",
        "US (Virginia)",
        "美国（弗吉尼亚）",
        "米国 (バージニア)",
        true,
    ),
    region(
        "us-west-1",
        "US (Silicon Valley)",
        "美国（硅谷）",
        "米国 (シリコンバレー)",
        true,
    ),
    region("na-south-1", "Mexico", "墨西哥", "メキシコ", false),
    region(
        "eu-west-1",
        "UK (London)",
        "英国（伦敦）",
        "英国 (ロンドン)",
        false,
    ),
    region(
        "eu-central-1",
        "Germany (Frankfurt)",
        "德国（法兰克福）",
        "ドイツ (フランクフルト)",
        false,
    ),
    region(
        "me-east-1",
        "UAE (Dubai)",
        "阿联酋（迪拜）",
        "UAE (ドバイ)",
        false,
    ),
    region(
        "me-central-1",
        "SAU (Riyadh)",
        "沙特（利雅得）",
        "サウジアラビア (リヤド)",
        false,
    ),
];

pub fn find(id: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|region| region.id == id)
}

/// A `RegionId` that names no region we know (the API answers `InvalidRegionId`).
#[derive(Debug)]
pub struct UnknownRegion(pub String);

/// Where clients that send no RegionId and no regional host name are taken to be.
pub const DEFAULT_REGION: &str = "cn-hangzhou";

/// The region a request is about: `RegionId` if given (and known); else the region of a
/// regional host name (`slb.<region>.aliyuncs.com`); else [`DEFAULT_REGION`]. Handlers whose
/// clients leave RegionId out use it, and so does authorization, so both judge one region.
pub fn of_request(region_id: Option<&str>, host: &str) -> Result<&'static Region, UnknownRegion> {
    if let Some(id) = region_id {
        return find(id).ok_or_else(|| UnknownRegion(id.to_owned()));
    }
    let host = host.split(':').next().unwrap_or_default();
    let from_host = host
        .strip_prefix("slb.")
        .and_then(|rest| rest.strip_suffix(".aliyuncs.com"))
        .and_then(find);
    Ok(from_host.unwrap_or_else(|| find(DEFAULT_REGION).expect("a known region")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn knows_the_common_regions_and_nothing_else() {
        for id in [
            "cn-hangzhou",
            "cn-shanghai",
            "cn-beijing",
            "ap-southeast-1",
            "eu-central-1",
        ] {
            assert!(super::find(id).is_some(), "{id}");
        }
        assert!(super::find("cn-atlantis").is_none());
        assert!(super::find("CN-HANGZHOU").is_none());
    }

    #[test]
    fn names_follow_the_language_and_endpoints_the_region() {
        use super::Language;
        let hangzhou = super::find("cn-hangzhou").unwrap();
        assert_eq!(hangzhou.local_name(Language::English), "China (Hangzhou)");
        assert_eq!(hangzhou.local_name(Language::Chinese), "华东1（杭州）");
        assert_eq!(hangzhou.local_name(Language::Japanese), "中国 (杭州)");
        assert_eq!(hangzhou.endpoint(), "slb.aliyuncs.com");
        assert_eq!(
            super::find("eu-central-1").unwrap().endpoint(),
            "slb.eu-central-1.aliyuncs.com"
        );
        assert_eq!(Language::parse("en-US"), Some(Language::English));
        assert_eq!(Language::parse("fr"), None);
    }
}
